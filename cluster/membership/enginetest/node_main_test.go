package enginetest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/ovsha/ovsha/cluster/membership"
	"github.com/ovsha/ovsha/cluster/totem"
)

// defaultWindow is the most own messages a sender keeps in flight (sent
// but not yet delivered back to itself), like CPG's flow control: without
// it a sender would fill the engine queue with up to MaxQueue messages.
const defaultWindow = 2048

// nodeMain runs the test binary as one node process. It returns the exit
// code. The process ends when its stdin closes (the parent is gone or done)
// or on SIGTERM.
func nodeMain(cfgJSON string) int {
	var cfg nodeConfig
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		fmt.Fprintf(os.Stderr, "enginetest node: decoding %s: %v\n", envNode, err)
		return 2
	}
	level := slog.LevelInfo
	if cfg.Debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("node", cfg.ID)
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	n, err := startNode(ctx, cfg, log)
	if err != nil {
		log.Error("node start failed", "err", err)
		return 1
	}
	go func() {
		serveControl(ctx, n, os.Stdin, os.Stdout, log)
		cancel() // stdin closed: the parent is gone
	}()
	err = n.wait()
	if err != nil {
		log.Error("node stopped", "err", err)
		return 1
	}
	log.Info("node stopped")
	return 0
}

// node is the child side: the membership runtime, its transport and the
// recorder fed from its events.
type node struct {
	cfg  nodeConfig
	rt   *membership.Runtime
	rec  *recorder
	log  *slog.Logger
	errc chan error
	// sendMu serializes "send" requests so that per-sender sequence
	// numbers stay in broadcast order.
	sendMu  sync.Mutex
	nextSeq uint64
}

func startNode(ctx context.Context, cfg nodeConfig, log *slog.Logger) (*node, error) {
	tr, err := newTransport(cfg, log)
	if err != nil {
		return nil, err
	}
	ids := make([]totem.NodeID, 0, len(cfg.Peers))
	for _, p := range cfg.Peers {
		ids = append(ids, totem.NodeID(p.ID))
	}
	ecfg := totem.DefaultConfig(totem.NodeID(cfg.ID), ids)
	ecfg.Logger = log.With("component", "totem")
	rt, err := membership.New(membership.Config{Engine: ecfg, Transport: tr, Logger: log})
	if err != nil {
		tr.Close()
		return nil, fmt.Errorf("creating the membership runtime: %w", err)
	}
	n := &node{cfg: cfg, rt: rt, rec: newRecorder(cfg.ID, time.Now), log: log, errc: make(chan error, 1)}
	go n.consume()
	go func() {
		err := rt.Run(ctx)
		tr.Close()
		n.errc <- err
	}()
	return n, nil
}

func (n *node) wait() error { return <-n.errc }

// consume feeds the recorder from the runtime's events.
func (n *node) consume() {
	for ev := range n.rt.Events() {
		switch ev.Kind {
		case totem.EventDeliver:
			n.rec.deliver(uint32(ev.Sender), ev.Payload)
		case totem.EventTransitional, totem.EventRegular:
			n.log.Info("configuration", "kind", ev.Kind.String(), "ring", ringString(ev.Ring), "members", ev.Members, "joined", ev.Joined, "left", ev.Left)
			n.rec.config(ev.Kind.String(), ringString(ev.Ring), idsToU32(ev.Members))
		}
	}
}

func ringString(r totem.RingID) string { return fmt.Sprintf("%d.%d", r.Rep, r.Seq) }

func idsToU32(ids []totem.NodeID) []uint32 {
	out := make([]uint32, len(ids))
	for i, id := range ids {
		out[i] = uint32(id)
	}
	return out
}

// serveControl reads requests from in until it closes and answers each on
// out from its own goroutine.
func serveControl(ctx context.Context, n *node, in *os.File, out *os.File, log *slog.Logger) {
	var wmu sync.Mutex
	w := bufio.NewWriter(out)
	send := func(rep reply) {
		b, err := json.Marshal(rep)
		if err != nil {
			b, _ = json.Marshal(reply{ID: rep.ID, Error: fmt.Sprintf("encoding reply: %v", err)})
		}
		wmu.Lock()
		defer wmu.Unlock()
		w.Write(b)
		w.WriteByte('\n')
		w.Flush()
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var req request
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			log.Error("bad control request", "line", sc.Text(), "err", err)
			continue
		}
		go func() {
			rep := n.handle(ctx, req)
			rep.ID = req.ID
			send(rep)
		}()
	}
}

func (n *node) handle(ctx context.Context, req request) reply {
	if req.TimeoutMs > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.TimeoutMs)*time.Millisecond)
		defer cancel()
	}
	var rep reply
	var err error
	switch req.Op {
	case opStatus:
		rep.Status, err = n.status(ctx)
	case opSend:
		rep.Sent, err = n.send(ctx, req)
	case opDigest:
		rep.Digest = n.rec.digest(req.HashAt)
		rep.Digest.Entries = n.rec.entriesIn(req.EntriesFrom, req.EntriesTo)
	case opWaitTotal:
		if err = n.rec.waitTotal(ctx, req.Total); err == nil {
			rep.Digest = n.rec.digest(nil)
		}
	case opWaitRing:
		var s segment
		if s, err = n.rec.waitRing(ctx, req.Members, req.SinceNs); err == nil {
			rep.Ring = &s
		}
	case opWaitSeqs:
		if err = n.rec.waitSeqs(ctx, req.Seqs); err == nil {
			rep.Digest = n.rec.digest(nil)
		}
	case opLatency:
		rep.Latency = n.rec.latency(req.Reset)
	case opLeave:
		err = n.rt.Leave(ctx)
	default:
		err = fmt.Errorf("unknown op %q", req.Op)
	}
	if err != nil {
		rep.Error = err.Error()
	}
	return rep
}

func (n *node) status(ctx context.Context) (*nodeStatus, error) {
	st, err := n.rt.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the runtime status: %w", err)
	}
	e := st.Engine
	return &nodeStatus{
		State: e.State.String(), Ring: ringString(e.Ring), Members: idsToU32(e.Members),
		Regulars: n.rec.regulars(), Queued: e.Queued,
		TokenLosses: e.Stats.TokenLosses, MembershipChanges: e.Stats.MembershipChanges,
		FramesRetrans: e.Stats.FramesRetransmitted, TokensRetrans: e.Stats.TokensRetransmitted,
		Stalls: e.Stats.Stalls,
	}, nil
}

// send broadcasts test messages: Count of them, or for DurationMs, at Rate
// per second (0: as fast as the window allows).
func (n *node) send(ctx context.Context, req request) (*sendResult, error) {
	if req.Size < headerSize {
		return nil, fmt.Errorf("send size %d: %w", req.Size, errBadPayload)
	}
	if req.Count <= 0 && req.DurationMs <= 0 {
		return nil, fmt.Errorf("send needs count or duration_ms, got %+v", req)
	}
	window := req.Window
	if window <= 0 {
		window = defaultWindow
	}
	g := totem.Agreed
	if req.Safe {
		g = totem.Safe
	}
	n.sendMu.Lock()
	defer n.sendMu.Unlock()
	start := time.Now()
	res := &sendResult{StartNs: start.UnixNano()}
	var end time.Time
	if req.DurationMs > 0 {
		end = start.Add(time.Duration(req.DurationMs) * time.Millisecond)
	}
	var pace *time.Ticker
	if req.Rate > 0 {
		pace = time.NewTicker(time.Duration(float64(time.Second) / req.Rate))
		defer pace.Stop()
	}
	for req.Count <= 0 || res.Sent < req.Count {
		if !end.IsZero() && !time.Now().Before(end) {
			break
		}
		if pace != nil {
			select {
			case <-pace.C:
			case <-ctx.Done():
				return res, fmt.Errorf("after %d messages: %w", res.Sent, ctx.Err())
			}
		}
		if err := n.rec.waitOwn(ctx, n.nextSeq, window); err != nil {
			return res, fmt.Errorf("flow control after %d messages: %w", res.Sent, err)
		}
		p := make([]byte, req.Size)
		n.nextSeq++
		encodePayload(p, n.cfg.ID, n.nextSeq, time.Now().UnixNano())
		if err := n.rt.Broadcast(ctx, p, g); err != nil {
			n.nextSeq--
			return res, fmt.Errorf("broadcast %d: %w", res.Sent, err)
		}
		res.Sent++
	}
	res.EndNs = time.Now().UnixNano()
	return res, nil
}
