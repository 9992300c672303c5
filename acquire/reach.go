package acquire

import (
	"math"
	"math/rand/v2"
)

// reachTask generates hand kinematics one bin at a time: a sequence of
// minimum-jerk movements separated by holds. Centre-out trials go centre ->
// target -> centre; random-target trials go from the current position to a
// uniformly drawn point within the workspace.
type reachTask struct {
	task   Task
	rng    *rand.Rand
	radius float64
	x, y   float64 // current position (cm)
	// current segment: hold for holdLeft s, then move from (x0,y0) to
	// (x1,y1) over dur s, starting at elapsed time 0.
	x0, y0, x1, y1 float64
	dur, elapsed   float64
	holdLeft       float64
	outbound       bool
	trial          int
}

func newReachTask(cfg SimConfig, rng *rand.Rand) reachTask {
	r := reachTask{task: cfg.Task, rng: rng, radius: cfg.Radius, trial: -1}
	r.next()
	return r
}

// next plans the following movement.
func (r *reachTask) next() {
	r.x0, r.y0 = r.x, r.y
	switch r.task {
	case TaskCentreOut:
		if !r.outbound {
			r.trial++
			k := r.rng.IntN(8)
			th := float64(k) * math.Pi / 4
			r.x1, r.y1 = r.radius*math.Cos(th), r.radius*math.Sin(th)
		} else {
			r.x1, r.y1 = 0, 0
		}
		r.outbound = !r.outbound
	default:
		r.trial++
		for {
			x, y := (2*r.rng.Float64()-1)*r.radius, (2*r.rng.Float64()-1)*r.radius
			if math.Hypot(x-r.x, y-r.y) > 0.3*r.radius {
				r.x1, r.y1 = x, y
				break
			}
		}
	}
	r.dur = 0.5 + 0.5*r.rng.Float64() // 0.5-1.0 s movements
	r.elapsed = 0
	r.holdLeft = 0.2 + 0.3*r.rng.Float64()
}

// step advances by dt seconds and returns the mean velocity over the step,
// the position at its end and the current trial.
func (r *reachTask) step(dt float64) (vx, vy, px, py float64, trial int) {
	sx, sy := r.x, r.y
	left := dt
	for left > 0 {
		if r.holdLeft > 0 {
			h := math.Min(left, r.holdLeft)
			r.holdLeft -= h
			left -= h
			continue
		}
		m := math.Min(left, r.dur-r.elapsed)
		r.elapsed += m
		left -= m
		s := minJerk(r.elapsed / r.dur)
		r.x, r.y = r.x0+(r.x1-r.x0)*s, r.y0+(r.y1-r.y0)*s
		if r.elapsed >= r.dur {
			r.x, r.y = r.x1, r.y1
			r.next()
		}
	}
	return (r.x - sx) / dt, (r.y - sy) / dt, r.x, r.y, r.trial
}

// minJerk is the minimum-jerk position profile on [0,1]; its derivative is
// the bell-shaped speed profile of natural reaches.
func minJerk(t float64) float64 {
	t = math.Min(math.Max(t, 0), 1)
	return t * t * t * (10 - 15*t + 6*t*t)
}
