package lsl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// InletOptions tune an inlet. EnsureDefaults fills them in.
type InletOptions struct {
	// MaxBuffered bounds the receive buffer in time (default 1 s): when
	// the consumer falls further behind, the oldest samples are dropped
	// and counted, so a real-time consumer never reads stale data.
	MaxBuffered time.Duration
	// MaxBufferedSamples, when > 0, bounds the buffer in samples instead.
	MaxBufferedSamples int
	// OutletBuffer is how much the outlet is asked to queue for this inlet
	// (liblsl's max_buflen; default: MaxBuffered, at least 1 s).
	OutletBuffer time.Duration
	// Recover reconnects transparently when the outlet goes away: the
	// stream is found again by its source id (or Query, or its name and
	// type when it has none), and the reconnect and the gap are counted.
	Recover bool
	// Query is the predicate used to find the stream again when it has no
	// source id.
	Query string
	// MaxStringLength bounds one string value (default 1 MiB); a longer
	// one is a bad stream.
	MaxStringLength int
	// JitterTolerance is how far a stamp may stray from the fitted
	// timeline before it counts as a gap or a jump (default: 50 ms or two
	// sample periods, whichever is longer).
	JitterTolerance time.Duration
	// MaxGap is the longest forward leap counted as lost samples rather
	// than a jump (default 10 s).
	MaxGap time.Duration
	// DejitterHalftime is the forgetting half-time of the timestamp fit
	// (default the configuration's SmoothingHalftime, 90 s).
	DejitterHalftime time.Duration
	// ConnectTimeout bounds one connection attempt (default 5 s).
	ConnectTimeout time.Duration
	// RecoverInterval is the pause between recovery attempts (default
	// 500 ms, as liblsl).
	RecoverInterval time.Duration
}

// EnsureDefaults fills unset fields with their defaults for a stream of
// the given rate.
func (o *InletOptions) EnsureDefaults(cfg *Config, rate float64) {
	if o.MaxBuffered <= 0 {
		o.MaxBuffered = time.Second
	}
	if o.OutletBuffer <= 0 {
		o.OutletBuffer = max(o.MaxBuffered, time.Second)
		if o.MaxBufferedSamples > 0 {
			perSecond := rate
			if rate == 0 {
				perSecond = 100
			}
			o.OutletBuffer = max(time.Duration(float64(o.MaxBufferedSamples)/perSecond*float64(time.Second)), time.Second)
		}
	}
	if o.MaxStringLength <= 0 {
		o.MaxStringLength = 1 << 20
	}
	if o.JitterTolerance <= 0 {
		o.JitterTolerance = 50 * time.Millisecond
		if rate > 0 {
			o.JitterTolerance = max(o.JitterTolerance, time.Duration(2/rate*float64(time.Second)))
		}
	}
	if o.MaxGap <= 0 {
		o.MaxGap = 10 * time.Second
	}
	if o.DejitterHalftime <= 0 {
		o.DejitterHalftime = cfg.SmoothingHalftime
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 5 * time.Second
	}
	if o.RecoverInterval <= 0 {
		o.RecoverInterval = 500 * time.Millisecond
	}
}

// Stats are an inlet's counters.
type Stats struct {
	Samples      uint64 // samples received from the network
	Delivered    uint64 // samples returned by pulls
	Chunks       uint64 // pulls that returned samples
	DroppedStale uint64 // oldest samples dropped because the consumer fell behind
	Gaps         uint64 // interruptions: reconnects and leaps of the timeline
	LostSamples  uint64 // samples missing in those gaps (from the stamps)
	Jumps        uint64 // stamps that went backwards or leapt beyond MaxGap (not passed on)
	Reconnects   uint64
	BadMessages  uint64 // malformed or lying handshakes and sample streams
	Buffered     int    // samples waiting to be pulled
	// NewestAge is how old the newest received sample is (local clock now
	// minus its corrected stamp); -1 before the first sample.
	NewestAge time.Duration
	// ClockOffset is the current correction (local minus outlet clock).
	ClockOffset time.Duration
	// RTT is the round trip of the probe that gave ClockOffset.
	RTT       time.Duration
	Connected bool
	// LastError is the most recent connection or stream error (nil if
	// none).
	LastError error
}

// ErrStreamChanged is returned when the stream found again after a
// reconnect has a different channel count or format: its data cannot be
// delivered in place of the old stream's.
var ErrStreamChanged = errors.New("lsl: the stream changed its shape on reconnect")

// Inlet receives one stream. All methods are safe for concurrent use; each
// pull returns samples in order, and samples go to one caller only.
type Inlet struct {
	cfg         *Config
	opts        InletOptions
	nch         int
	format      Format
	sampleBytes int
	rate        float64

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	avail  chan struct{} // capacity 1: samples arrived, or the inlet ended

	mu       sync.Mutex
	info     StreamInfo
	udp      netip.AddrPort
	capacity uint64
	data     []byte
	strs     []string
	remote   []float64
	local    []int64
	head     uint64
	tail     uint64
	proc     *stampProcessor
	est      TimeEstimate
	stats    Stats
	newest   float64 // corrected stamp of the newest sample
	failed   error   // terminal
	closed   bool
}

// OpenInlet connects to a resolved stream: it measures the outlet's clock
// offset, fetches the full stream info, opens the feed (handshake and test
// patterns) and starts receiving in the background.
func OpenInlet(ctx context.Context, cfg *Config, info StreamInfo, opts InletOptions) (*Inlet, error) {
	if cfg == nil {
		return nil, errors.New("lsl: OpenInlet: nil config")
	}
	if !info.Format.valid() || info.ChannelCount < 1 || info.ChannelCount > maxChannels {
		return nil, fmt.Errorf("lsl: OpenInlet %q: invalid format %v or channel count %d", info.Name, info.Format, info.ChannelCount)
	}
	opts.EnsureDefaults(cfg, info.NominalRate)
	capacity := opts.MaxBufferedSamples
	if capacity <= 0 {
		capacity = bufferSamples(opts.MaxBuffered, info.NominalRate)
	}
	in := &Inlet{cfg: cfg, opts: opts, nch: info.ChannelCount, format: info.Format, sampleBytes: info.ChannelCount * info.Format.Size(), rate: info.NominalRate,
		avail: make(chan struct{}, 1), capacity: uint64(capacity)}
	if perSample := max(in.sampleBytes, 16*in.nch); capacity > (1<<30)/perSample {
		return nil, fmt.Errorf("lsl: OpenInlet %q: a buffer of %d samples of %d channels exceeds 1 GiB", info.Name, capacity, in.nch)
	}
	if in.format == String {
		in.strs = make([]string, capacity*in.nch)
	} else {
		in.data = make([]byte, capacity*in.sampleBytes)
	}
	in.remote = make([]float64, capacity)
	in.local = make([]int64, capacity)
	in.proc = newStampProcessor(info.NominalRate, opts.JitterTolerance.Seconds(), opts.MaxGap.Seconds(), opts.DejitterHalftime.Seconds())
	in.stats.NewestAge = -1

	tcp, _, err := endpoints(cfg, info)
	if err != nil {
		return nil, err
	}
	full, err := fetchInfo(ctx, cfg, tcp, opts.ConnectTimeout)
	if err != nil {
		return nil, fmt.Errorf("lsl: OpenInlet %q: fetching the full info: %w", info.Name, err)
	}
	if full.UID != info.UID || full.ChannelCount != info.ChannelCount || full.Format != info.Format {
		return nil, fmt.Errorf("lsl: OpenInlet %q: the outlet at %v now serves %q (uid %s, %d %v channels), not the resolved uid %s", info.Name, tcp, full.Name, full.UID, full.ChannelCount, full.Format, info.UID)
	}
	merged := info.Clone()
	merged.Desc = full.Desc
	in.info = merged

	conn, sr, est, err := in.connect(ctx, merged)
	if err != nil {
		return nil, err
	}
	in.ctx, in.cancel = context.WithCancel(context.Background())
	in.est = est
	_, in.udp, _ = endpoints(cfg, merged)
	in.stats.Connected = true
	in.wg.Add(2)
	go in.readLoop(conn, sr)
	go in.timeLoop()
	return in, nil
}

// fetchInfo asks an outlet's data port for its full info.
func fetchInfo(ctx context.Context, cfg *Config, addr netip.AddrPort, timeout time.Duration) (StreamInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr.String())
	if err != nil {
		return StreamInfo{}, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if _, err := conn.Write([]byte("LSL:fullinfo\r\n")); err != nil {
		return StreamInfo{}, err
	}
	data, err := io.ReadAll(io.LimitReader(conn, maxXMLBytes+1))
	if err != nil {
		return StreamInfo{}, err
	}
	return ParseStreamInfo(data)
}

// connect measures the clock offset and opens the feed of info's outlet.
func (in *Inlet) connect(ctx context.Context, info StreamInfo) (net.Conn, *sampleReader, TimeEstimate, error) {
	ctx, cancel := context.WithTimeout(ctx, in.opts.ConnectTimeout)
	defer cancel()
	tcp, udp, err := endpoints(in.cfg, info)
	if err != nil {
		return nil, nil, TimeEstimate{}, err
	}
	est, err := estimateTime(ctx, in.cfg, udp)
	if err != nil {
		return nil, nil, est, fmt.Errorf("lsl: stream %q: %w", info.Name, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", tcp.String())
	if err != nil {
		return nil, nil, est, fmt.Errorf("lsl: stream %q: connecting to %v: %w", info.Name, tcp, err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	host := ""
	req := appendFeedRequest(nil, inletRequest{uid: info.UID, format: info.Format,
		maxBuffer: bufferSamples(in.opts.OutletBuffer, info.NominalRate), maxChunk: 0,
		hostname: host, sourceID: info.SourceID, sessionID: info.SessionID})
	fail := func(err error) (net.Conn, *sampleReader, TimeEstimate, error) {
		conn.Close()
		if ctx.Err() != nil && !errors.Is(err, ErrBadStream) && !errors.Is(err, ErrHandshake) {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		return nil, nil, est, fmt.Errorf("lsl: stream %q at %v: %w", info.Name, tcp, err)
	}
	if _, err := conn.Write(req); err != nil {
		return fail(err)
	}
	br := bufio.NewReaderSize(conn, 256<<10)
	params, err := readFeedResponse(br, info.UID, info.Format.Size())
	if err != nil {
		return fail(err)
	}
	sr := newSampleReader(br, info.Format, info.ChannelCount, info.NominalRate, in.opts.MaxStringLength)
	sr.reverse = params.byteOrder == 4321
	sr.suppress = params.suppress
	if err := checkTestPatterns(sr); err != nil {
		return fail(err)
	}
	if !stop() {
		return fail(ctx.Err())
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, sr, est, nil
}

// Info returns the stream's full info (description included), with the
// address and uid of the outlet currently connected.
func (in *Inlet) Info() StreamInfo {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.info.Clone()
}

// Stats returns the inlet's counters.
func (in *Inlet) Stats() Stats {
	in.mu.Lock()
	defer in.mu.Unlock()
	s := in.stats
	s.Buffered = int(in.head - in.tail)
	if in.stats.Samples > 0 {
		s.NewestAge = time.Duration((LocalClock() - in.newest) * float64(time.Second))
	}
	s.ClockOffset = time.Duration(in.est.Correction * float64(time.Second))
	s.RTT = time.Duration(in.est.RTT * float64(time.Second))
	return s
}

// TimeCorrection returns the current clock-offset estimate of the outlet.
func (in *Inlet) TimeCorrection() TimeEstimate {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.est
}

// Close stops receiving and waits for the inlet's goroutines, or until ctx
// ends (they are stopped either way and end promptly).
func (in *Inlet) Close(ctx context.Context) error {
	in.mu.Lock()
	in.closed = true
	in.mu.Unlock()
	in.cancel()
	done := make(chan struct{})
	go func() { in.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("lsl: closing inlet %q: %w", in.info.Name, ctx.Err())
	}
}

func (in *Inlet) signal() {
	select {
	case in.avail <- struct{}{}:
	default:
	}
}

func (in *Inlet) recordError(err error, bad bool) {
	in.mu.Lock()
	in.stats.LastError = err
	if bad {
		in.stats.BadMessages++
	}
	in.mu.Unlock()
}

func isBad(err error) bool {
	return errors.Is(err, ErrBadStream) || errors.Is(err, ErrHandshake) || errors.Is(err, ErrBadInfo)
}

// readLoop owns the connection: it receives until the stream fails, then
// recovers (or gives up) and goes on with the new connection.
func (in *Inlet) readLoop(conn net.Conn, sr *sampleReader) {
	defer in.wg.Done()
	defer in.signal()
	afterGap := false
	for {
		err := in.stream(conn, sr, afterGap)
		conn.Close()
		if in.ctx.Err() != nil {
			return
		}
		in.mu.Lock()
		in.stats.Connected = false
		in.mu.Unlock()
		in.recordError(err, isBad(err))
		if !in.opts.Recover {
			in.fail(fmt.Errorf("lsl: stream %q lost (recovery disabled): %w", in.info.Name, err))
			return
		}
		conn, sr = in.recover()
		if conn == nil {
			return
		}
		afterGap = true
	}
}

// fail ends the inlet with err: pulls return it once the buffer is empty.
func (in *Inlet) fail(err error) {
	in.mu.Lock()
	if in.failed == nil {
		in.failed = err
	}
	in.stats.LastError = err
	in.mu.Unlock()
	in.signal()
}

// recover finds the stream again and connects; nil when the inlet is
// closing or the stream came back changed.
func (in *Inlet) recover() (net.Conn, *sampleReader) {
	for {
		select {
		case <-in.ctx.Done():
			return nil, nil
		case <-time.After(in.opts.RecoverInterval):
		}
		info, err := in.reresolve()
		if err != nil {
			if in.ctx.Err() != nil {
				return nil, nil
			}
			in.recordError(err, false)
			continue
		}
		if info.ChannelCount != in.nch || info.Format != in.format {
			in.mu.Lock()
			in.stats.BadMessages++
			in.mu.Unlock()
			in.fail(fmt.Errorf("%w: %q now has %d %v channels (uid %s), was %d %v; refusing it", ErrStreamChanged, info.Name, info.ChannelCount, info.Format, info.UID, in.nch, in.format))
			return nil, nil
		}
		conn, sr, est, err := in.connect(in.ctx, info)
		if err != nil {
			if in.ctx.Err() != nil {
				return nil, nil
			}
			in.recordError(err, isBad(err))
			continue
		}
		_, udp, _ := endpoints(in.cfg, info)
		in.mu.Lock()
		desc := in.info.Desc
		in.info = info.Clone()
		in.info.Desc = desc
		in.udp = udp
		in.est = est
		in.stats.Reconnects++
		in.stats.Connected = true
		in.mu.Unlock()
		return conn, sr
	}
}

// reresolve looks for the stream again: by source id, else by the
// caller's query, else by name and type. The outlet the inlet was
// connected to wins if it still answers; otherwise there must be exactly
// one candidate.
func (in *Inlet) reresolve() (StreamInfo, error) {
	in.mu.Lock()
	old := in.info
	in.mu.Unlock()
	var query string
	switch {
	case old.SourceID != "":
		query = "source_id=" + xpathLiteral(old.SourceID)
	case in.opts.Query != "":
		query = in.opts.Query
	default:
		query = "name=" + xpathLiteral(old.Name) + " and type=" + xpathLiteral(old.Type)
	}
	infos, err := Resolve(in.ctx, in.cfg, query, ResolveOptions{Minimum: 1, Timeout: in.opts.ConnectTimeout, MinimumTime: in.cfg.MulticastMinRTT})
	if err != nil {
		return StreamInfo{}, fmt.Errorf("lsl: recovering %q: %w", old.Name, err)
	}
	for _, info := range infos {
		if info.UID == old.UID {
			return info, nil
		}
	}
	if len(infos) > 1 {
		uids := make([]string, len(infos))
		for i, info := range infos {
			uids[i] = info.UID
		}
		return StreamInfo{}, fmt.Errorf("lsl: recovering %q: %d streams match %s (uids %s); not guessing", old.Name, len(infos), query, strings.Join(uids, ", "))
	}
	return infos[0], nil
}

// xpathLiteral quotes s as an XPath string literal.
func xpathLiteral(s string) string {
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	return "\"" + s + "\""
}

// timeLoop refreshes the clock offset every TimeUpdateInterval.
func (in *Inlet) timeLoop() {
	defer in.wg.Done()
	t := time.NewTicker(in.cfg.TimeUpdateInterval)
	defer t.Stop()
	var prober *timeProber
	var proberTarget netip.AddrPort
	defer func() {
		if prober != nil {
			prober.close()
		}
	}()
	for {
		select {
		case <-in.ctx.Done():
			return
		case <-t.C:
		}
		in.mu.Lock()
		target := in.udp
		connected := in.stats.Connected
		in.mu.Unlock()
		if !connected || !target.IsValid() {
			continue
		}
		if prober == nil || proberTarget != target {
			if prober != nil {
				prober.close()
			}
			p, err := newTimeProber(in.ctx, in.cfg, target)
			if err != nil {
				continue
			}
			prober, proberTarget = p, target
		}
		est, err := prober.round(in.ctx, in.cfg, target)
		if err != nil {
			continue // keep the last estimate; the feed notices a lost outlet
		}
		in.mu.Lock()
		if in.udp == target {
			in.est = est
		}
		in.mu.Unlock()
	}
}

// errWatchdog reports a regular stream that went silent.
var errWatchdog = errors.New("lsl: no data within the watchdog threshold")

// stream receives samples from one connection into the buffer until it
// fails or the inlet closes.
func (in *Inlet) stream(conn net.Conn, sr *sampleReader, afterGap bool) error {
	stop := context.AfterFunc(in.ctx, func() { conn.Close() })
	defer stop()
	const batch = 512
	var stage []byte
	var stageStr []string
	if in.format == String {
		stageStr = make([]string, batch*in.nch)
	} else {
		stage = make([]byte, batch*in.sampleBytes)
	}
	stamps := make([]float64, batch)
	watchdog := in.rate > 0 && in.cfg.WatchdogTimeThreshold > 0
	for {
		if watchdog {
			_ = conn.SetReadDeadline(time.Now().Add(in.cfg.WatchdogTimeThreshold))
		}
		n := 0
		var err error
		for n < batch {
			var stamp float64
			stamp, err = sr.readStamp()
			if err == nil {
				if in.format == String {
					err = sr.readStrings(stageStr[n*in.nch : (n+1)*in.nch])
				} else {
					err = sr.readNumeric(stage[n*in.sampleBytes : (n+1)*in.sampleBytes])
				}
			}
			if err != nil {
				break
			}
			stamps[n] = stamp
			n++
			if sr.r.Buffered() == 0 {
				break
			}
		}
		if n > 0 {
			in.commit(stage, stageStr, stamps[:n], afterGap)
			afterGap = false
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return fmt.Errorf("%w (%v)", errWatchdog, in.cfg.WatchdogTimeThreshold)
			}
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("lsl: stream %q: the outlet closed the connection", in.info.Name)
			}
			return err
		}
	}
}

// commit moves received samples into the buffer, processing their stamps
// and dropping the oldest samples when the consumer is behind.
func (in *Inlet) commit(stage []byte, stageStr []string, stamps []float64, afterGap bool) {
	in.mu.Lock()
	corr := in.est.Correction
	for j, remote := range stamps {
		corrected := remote + corr
		out := in.proc.process(corrected, afterGap && j == 0)
		if afterGap && j == 0 {
			in.stats.Gaps++
		} else if in.proc.lost > 0 {
			in.stats.Gaps++
		}
		in.stats.LostSamples += uint64(in.proc.lost)
		if in.proc.jumped {
			in.stats.Jumps++
		}
		if in.head-in.tail == in.capacity {
			in.tail++
			in.stats.DroppedStale++
		}
		i := int(in.head % in.capacity)
		if in.format == String {
			copy(in.strs[i*in.nch:(i+1)*in.nch], stageStr[j*in.nch:(j+1)*in.nch])
		} else {
			copy(in.data[i*in.sampleBytes:(i+1)*in.sampleBytes], stage[j*in.sampleBytes:(j+1)*in.sampleBytes])
		}
		in.remote[i] = remote
		in.local[i] = ToUnixNano(out)
		in.head++
		in.newest = corrected
	}
	in.stats.Samples += uint64(len(stamps))
	in.mu.Unlock()
	in.signal()
}

// wait blocks until samples are buffered, the inlet fails or closes, or
// ctx ends; it returns with in.mu held and the number of samples
// available.
func (in *Inlet) waitLocked(ctx context.Context) (uint64, error) {
	for {
		in.mu.Lock()
		if n := in.head - in.tail; n > 0 {
			return n, nil
		}
		if in.failed != nil {
			err := in.failed
			in.mu.Unlock()
			return 0, err
		}
		if in.closed {
			in.mu.Unlock()
			return 0, ErrClosed
		}
		in.mu.Unlock()
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-in.avail:
		}
	}
}

// Pull copies the oldest buffered samples into data (multiplexed,
// len(data)/channels samples at most), their stamps into stamps (Unix
// nanoseconds on this machine's clock, corrected and de-jittered; may be
// nil) and the sender's original LSL stamps into remote (may be nil). It
// blocks until at least one sample is there, the stream is lost for good
// or ctx ends, and returns the number of samples. It does not allocate.
func Pull[T Number](ctx context.Context, in *Inlet, data []T, stamps []int64, remote []float64) (int, error) {
	if in.format == String {
		return 0, fmt.Errorf("lsl: pull from %q: a string stream (use PullStrings)", in.info.Name)
	}
	want := len(data) / in.nch
	if stamps != nil {
		want = min(want, len(stamps))
	}
	if remote != nil {
		want = min(want, len(remote))
	}
	if want == 0 {
		return 0, fmt.Errorf("lsl: pull from %q: buffers hold no whole sample of %d channels", in.info.Name, in.nch)
	}
	avail, err := in.waitLocked(ctx)
	if err != nil {
		return 0, err
	}
	n := int(min(avail, uint64(want)))
	for done := 0; done < n; {
		i := int(in.tail % in.capacity)
		run := min(n-done, int(in.capacity)-i)
		decodeValues(data[done*in.nch:(done+run)*in.nch], in.data[i*in.sampleBytes:(i+run)*in.sampleBytes], in.format)
		if stamps != nil {
			copy(stamps[done:done+run], in.local[i:i+run])
		}
		if remote != nil {
			copy(remote[done:done+run], in.remote[i:i+run])
		}
		in.tail += uint64(run)
		done += run
	}
	in.stats.Delivered += uint64(n)
	in.stats.Chunks++
	in.mu.Unlock()
	return n, nil
}

// PullFloat32 is Pull into float32 values, the decoder's format: numbers
// of any channel format are converted.
func (in *Inlet) PullFloat32(ctx context.Context, data []float32, stamps []int64) (int, error) {
	return Pull(ctx, in, data, stamps, nil)
}

// PullStrings is Pull for string streams (markers).
func (in *Inlet) PullStrings(ctx context.Context, data []string, stamps []int64, remote []float64) (int, error) {
	if in.format != String {
		return 0, fmt.Errorf("lsl: PullStrings from %q: the stream's format is %v", in.info.Name, in.format)
	}
	want := len(data) / in.nch
	if stamps != nil {
		want = min(want, len(stamps))
	}
	if remote != nil {
		want = min(want, len(remote))
	}
	if want == 0 {
		return 0, fmt.Errorf("lsl: pull from %q: buffers hold no whole sample of %d channels", in.info.Name, in.nch)
	}
	avail, err := in.waitLocked(ctx)
	if err != nil {
		return 0, err
	}
	n := int(min(avail, uint64(want)))
	for j := 0; j < n; j++ {
		i := int(in.tail % in.capacity)
		copy(data[j*in.nch:(j+1)*in.nch], in.strs[i*in.nch:(i+1)*in.nch])
		clear(in.strs[i*in.nch : (i+1)*in.nch])
		if stamps != nil {
			stamps[j] = in.local[i]
		}
		if remote != nil {
			remote[j] = in.remote[i]
		}
		in.tail++
	}
	in.stats.Delivered += uint64(n)
	in.stats.Chunks++
	in.mu.Unlock()
	return n, nil
}
