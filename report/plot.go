// Package report draws what decoders did: decoded against true
// trajectories, and learning curves, as PNG files via gonum/plot.
package report

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

var (
	truthColor = color.RGBA{A: 255}
	predColor  = color.RGBA{R: 220, G: 60, B: 40, A: 255}
)

// Trajectories draws, one panel per dimension, the true and decoded values
// over time (seconds) and writes the figure to path as PNG.
func Trajectories(path, title string, t []float64, truth, pred [][]float32, names []string) error {
	if len(t) == 0 || len(truth) != len(t) || len(pred) != len(t) {
		return fmt.Errorf("plot: %d times, %d true and %d decoded rows", len(t), len(truth), len(pred))
	}
	dims := len(names)
	plots := make([][]*plot.Plot, dims)
	for d := range dims {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s: %s", title, names[d])
		p.X.Label.Text = "time (s)"
		p.Y.Label.Text = names[d]
		tl, pl := make(plotter.XYs, len(t)), make(plotter.XYs, len(t))
		for i := range t {
			tl[i] = plotter.XY{X: t[i], Y: float64(truth[i][d])}
			pl[i] = plotter.XY{X: t[i], Y: float64(pred[i][d])}
		}
		if err := addLine(p, tl, "true", truthColor); err != nil {
			return err
		}
		if err := addLine(p, pl, "decoded", predColor); err != nil {
			return err
		}
		p.Legend.Top = true
		plots[d] = []*plot.Plot{p}
	}
	return save(path, plots, 10*vg.Inch, vg.Length(dims)*3*vg.Inch)
}

// Curves draws named series (e.g. training and validation loss per epoch)
// on one panel.
func Curves(path, title, xLabel, yLabel string, series map[string][]float64) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	palette := []color.Color{truthColor, predColor, color.RGBA{G: 120, B: 200, A: 255}, color.RGBA{G: 150, A: 255}}
	i := 0
	for _, name := range sortedKeys(series) {
		v := series[name]
		xy := make(plotter.XYs, len(v))
		for j, y := range v {
			xy[j] = plotter.XY{X: float64(j + 1), Y: y}
		}
		if err := addLine(p, xy, name, palette[i%len(palette)]); err != nil {
			return err
		}
		i++
	}
	p.Legend.Top = true
	return save(path, [][]*plot.Plot{{p}}, 8*vg.Inch, 5*vg.Inch)
}

func addLine(p *plot.Plot, xy plotter.XYs, name string, c color.Color) error {
	l, err := plotter.NewLine(xy)
	if err != nil {
		return fmt.Errorf("plot %s: %w", name, err)
	}
	l.Color = c
	l.Width = vg.Points(1)
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}

func save(path string, plots [][]*plot.Plot, w, h vg.Length) error {
	img := vgimg.New(w, h)
	dc := draw.New(img)
	rows, cols := len(plots), len(plots[0])
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter, PadY: vg.Millimeter, PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
	canvases := plot.Align(plots, tiles, dc)
	for i := range rows {
		for j := range cols {
			plots[i][j].Draw(canvases[i][j])
		}
	}
	return writeImage(path, img)
}
