package report

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// CursorTrial is one closed-loop trial as CursorPaths draws it.
type CursorTrial struct {
	// Path is the cursor position after each bin, from Start.
	Start  [2]float64
	Path   [][2]float64
	Target [2]float64
	Radius float64
	// Success colours the path: green when the target was acquired, red
	// when the trial timed out.
	Success bool
}

var (
	successColor = color.RGBA{G: 150, B: 60, A: 255}
	failColor    = color.RGBA{R: 210, G: 40, B: 40, A: 255}
	targetColor  = color.RGBA{R: 120, G: 120, B: 120, A: 255}
)

// CursorPaths draws closed-loop cursor paths on the workspace, coloured by
// outcome, with the targets' acceptance windows, and writes the figure to
// path as PNG.
func CursorPaths(path, title string, trials []CursorTrial) error {
	if len(trials) == 0 {
		return fmt.Errorf("plot %s: no trials to draw", path)
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "x (cm)"
	p.Y.Label.Text = "y (cm)"
	drawn := map[[2]float64]bool{}
	legend := map[bool]bool{}
	for _, tr := range trials {
		if !drawn[tr.Target] {
			drawn[tr.Target] = true
			if err := addCircle(p, tr.Target, tr.Radius); err != nil {
				return err
			}
		}
		xy := make(plotter.XYs, 0, len(tr.Path)+1)
		xy = append(xy, plotter.XY{X: tr.Start[0], Y: tr.Start[1]})
		for _, q := range tr.Path {
			xy = append(xy, plotter.XY{X: q[0], Y: q[1]})
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		l.Width = vg.Points(0.8)
		l.Color = failColor
		if tr.Success {
			l.Color = successColor
		}
		p.Add(l)
		if !legend[tr.Success] {
			legend[tr.Success] = true
			p.Legend.Add(map[bool]string{true: "acquired", false: "timed out"}[tr.Success], l)
		}
	}
	p.Legend.Top = true
	img := vgimg.New(8*vg.Inch, 8*vg.Inch)
	p.Draw(draw.New(img))
	return writeImage(path, img)
}

// addCircle outlines a target's acceptance window.
func addCircle(p *plot.Plot, c [2]float64, r float64) error {
	const n = 48
	xy := make(plotter.XYs, n+1)
	for i := range xy {
		th := 2 * math.Pi * float64(i) / n
		xy[i] = plotter.XY{X: c[0] + r*math.Cos(th), Y: c[1] + r*math.Sin(th)}
	}
	l, err := plotter.NewLine(xy)
	if err != nil {
		return fmt.Errorf("plot target: %w", err)
	}
	l.Color = targetColor
	l.Width = vg.Points(1.5)
	p.Add(l)
	return nil
}
