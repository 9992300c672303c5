package report

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/bci-decode/bci-decode/dataset"
)

// palette colours the decoders of an eval plot; the truth is black.
var palette = []color.Color{
	color.RGBA{R: 220, G: 60, B: 40, A: 255}, color.RGBA{G: 120, B: 200, A: 255}, color.RGBA{G: 150, A: 255},
	color.RGBA{R: 200, G: 140, A: 255}, color.RGBA{R: 140, B: 180, A: 255}, color.RGBA{G: 170, B: 170, A: 255},
	color.RGBA{R: 120, G: 120, B: 120, A: 255}, color.RGBA{R: 240, G: 120, B: 200, A: 255},
}

// Paths draws decoded against true trajectories: velocity integrated over
// bins from the start of each of the first test segments (at most 600
// bins), one line per decoder in the order of names, in the plane of the
// first two targets, and writes the figure to path as PNG.
func Paths(path string, test *dataset.Set, names []string, preds map[string][][]float32, title string) error {
	if test.Outputs() < 2 {
		return fmt.Errorf("plot: need two targets, have %d", test.Outputs())
	}
	p := plot.New()
	p.Title.Text = "decoded vs true trajectories (integrated " + test.TargetNames[0] + ", " + test.TargetNames[1] + "): " + title
	p.X.Label.Text = test.TargetNames[0] + " integrated (units × bins)"
	p.Y.Label.Text = test.TargetNames[1] + " integrated (units × bins)"
	series := append([]string{"true"}, names...)
	budget := 600
	for si, name := range series {
		rows := test.Y
		if name != "true" {
			rows = preds[name]
		}
		used := 0
		for gi, g := range test.Segments() {
			if used >= budget {
				break
			}
			end := min(g[1], g[0]+budget-used)
			xy := make(plotter.XYs, 0, end-g[0]+1)
			x, y := 0.0, 0.0
			xy = append(xy, plotter.XY{})
			for t := g[0]; t < end; t++ {
				x += float64(rows[t][0])
				y += float64(rows[t][1])
				xy = append(xy, plotter.XY{X: x, Y: y})
			}
			used += end - g[0]
			l, err := plotter.NewLine(xy)
			if err != nil {
				return fmt.Errorf("plot %s: %w", name, err)
			}
			l.Width = vg.Points(1)
			l.Color = color.Black
			if si > 0 {
				l.Color = palette[(si-1)%len(palette)]
			} else {
				l.Width = vg.Points(2)
			}
			p.Add(l)
			if gi == 0 {
				p.Legend.Add(name, l)
			}
		}
	}
	p.Legend.Top = true
	if err := p.Save(9*vg.Inch, 8*vg.Inch, path); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return nil
}
