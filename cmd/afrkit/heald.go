package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/heald"
)

// HealdOptions are the inputs of `afrkit heald`.
type HealdOptions struct {
	F *Factory
	// Socket is the control socket's path.
	Socket string
	// MetricsAddr, when set, serves Prometheus's exposition at /metrics.
	MetricsAddr string
	// LogFormat is text or json.
	LogFormat string
	// Probe, Settle, Sample, HealTimeout override the daemon's defaults.
	Probe, Settle, Sample, HealTimeout time.Duration
	// IOClass is the daemon's I/O scheduling class: idle (clients of the
	// mount first) or best-effort.
	IOClass string
	// MaxRate caps the data heal (heald.ParseRate); "" leaves it to each
	// volume's afrkit.heal-max-rate.
	MaxRate string
	// ready, when set, is closed once the daemon serves (tests).
	ready chan<- struct{}
}

const healdLong = `Run the self-heal daemon in the foreground (for systemd): one per host, it
heals every afrkit volume registered here, mounted or not, as soon as
something needs healing, and watches GlusterFS's volumes of this host for the
status and the metrics (their own self-heal daemon heals them).

It heals a volume when an entry appears in a brick's xattrop index (a brick
missed a change), when a brick comes back (bricks it cannot open are probed
every --probe), when afrkit heal VOL asks it to (afrkit heal hands its work
to a running daemon and prints what it did), and every cluster.heal-timeout
seconds (600 by default, as GlusterFS) as the safety net, which also heals
what a crash left marked dirty. cluster.shd-max-threads entries are healed at
once (1 by default, as GlusterFS: clients of the mount come first).
afrkit volume set VOL cluster.self-heal-daemon off leaves a volume to afrkit
heal run by hand. Split-brains are healed only by the volume's
cluster.favorite-child-policy; the others wait for a person and show in heal
status and the metrics.

Its I/O runs in the idle scheduling class by default (--io-class), so
the disk serves clients of the mount first where the scheduler honours it;
--max-rate (or a volume's afrkit.heal-max-rate) caps the bytes per second
its data heals read and write.

Between two heals the daemon holds nothing open on a brick: a failed disk can
be unmounted and repaired while it runs. SIGINT or SIGTERM stop it between two
entries; what it healed is committed, and the next start goes on.

The control socket (--socket) answers root and the daemon's user only.
--metrics-addr serves Prometheus's text exposition at /metrics: pending and
split-brain entries per brick, entries and bytes healed, rate, ETA, bricks
up, last sweep. Logs go to stderr, as text or (--log-format json) JSON lines.`

// NewCmdHeald builds `afrkit heald`.
func NewCmdHeald(f *Factory) *cobra.Command {
	opts := &HealdOptions{F: f}
	cmd := &cobra.Command{
		Use:   "heald",
		Short: "Run the self-heal daemon (foreground, for systemd)",
		Long:  healdLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.LogFormat != "text" && opts.LogFormat != "json" {
				return usageError{fmt.Errorf("--log-format %q: want text or json", opts.LogFormat)}
			}
			if opts.IOClass != "idle" && opts.IOClass != "best-effort" {
				return usageError{fmt.Errorf("--io-class %q: want idle or best-effort", opts.IOClass)}
			}
			if opts.MaxRate != "" {
				if _, err := heald.ParseRate(opts.MaxRate); err != nil {
					return usageError{fmt.Errorf("--max-rate %w", err)}
				}
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return healdRun(ctx, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Socket, "socket", heald.SocketPath(), "the control socket (afrkit heal and heal status talk to the daemon there)")
	cmd.Flags().StringVar(&opts.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics (for example 127.0.0.1:9713)")
	cmd.Flags().StringVar(&opts.LogFormat, "log-format", "text", "text or json")
	cmd.Flags().DurationVar(&opts.Probe, "probe", heald.DefaultProbe, "how often bricks that are down are tried again")
	cmd.Flags().DurationVar(&opts.Settle, "settle", heald.DefaultSettle, "how long to wait after an index change for more before healing")
	cmd.Flags().DurationVar(&opts.Sample, "sample", heald.DefaultSample, "how often every volume's backlog is looked at for status and metrics")
	cmd.Flags().StringVar(&opts.MaxRate, "max-rate", "", "cap the data heal at this many bytes per second (50M is 50 MiB/s), over each volume's "+heald.MaxRateOption)
	cmd.Flags().StringVar(&opts.IOClass, "io-class", "idle", "the daemon's I/O scheduling class: idle (the disk serves clients first; as ionice -c3) or best-effort")
	cmd.Flags().DurationVar(&opts.HealTimeout, "heal-timeout", 0, "sweep every volume this often (default: each volume's cluster.heal-timeout, else 600s)")
	return cmd
}

// healdRun serves until ctx ends (SIGINT or SIGTERM).
func healdRun(ctx context.Context, opts *HealdOptions) error {
	var h slog.Handler = slog.NewTextHandler(opts.F.IO.ErrOut, nil)
	if opts.LogFormat == "json" {
		h = slog.NewJSONHandler(opts.F.IO.ErrOut, nil)
	}
	log := slog.New(h)
	if opts.IOClass == "idle" {
		if err := ioIdle(); err != nil {
			log.Warn("the idle I/O class could not be set; healing at the normal class", "err", err)
		}
	}
	var maxRate int64
	if opts.MaxRate != "" {
		var err error
		if maxRate, err = heald.ParseRate(opts.MaxRate); err != nil {
			return err
		}
	}
	d := heald.New(heald.Options{Catalog: opts.F.Catalog(), StateDir: opts.F.StateDir, Log: log,
		Probe: opts.Probe, Settle: opts.Settle, Sample: opts.Sample, Sweep: opts.HealTimeout, MaxRate: maxRate})
	if opts.MetricsAddr != "" {
		reg := prometheus.NewRegistry()
		reg.MustRegister(heald.NewCollector(d))
		ml, err := net.Listen("tcp", opts.MetricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ml)
		defer srv.Close()
		log.Info("metrics", "addr", ml.Addr().String())
	}
	l, err := heald.Listen(opts.Socket)
	if err != nil {
		return err
	}
	defer os.Remove(opts.Socket)
	go d.Serve(ctx, l)
	log.Info("heal daemon started", "socket", opts.Socket, "pid", os.Getpid())
	if opts.ready != nil {
		close(opts.ready)
	}
	err = d.Run(ctx)
	log.Info("heal daemon stopped")
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// healByDaemon hands `afrkit heal VOL` to a running daemon that heals the
// volume, waits for its round and prints what it did, as heal does.
// handled is false when no daemon answers or it does not heal the volume:
// the heal then runs in this process.
func healByDaemon(opts *HealRunOptions) (handled bool, err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, pid, err := heald.Client{Path: opts.DaemonSocket}.Heal(ctx, opts.Volume)
	switch {
	case errors.Is(err, heald.ErrNoDaemon), errors.Is(err, heald.ErrNotServed):
		return false, nil
	case ctx.Err() != nil:
		return true, exitStatus{ExitInterrupted, fmt.Errorf("heal %s: stopped waiting; the heal daemon goes on healing", opts.Volume)}
	case err != nil:
		return true, fmt.Errorf("heal %s: %w", opts.Volume, err)
	}
	fmt.Fprintf(opts.F.IO.Out, "The heal daemon (pid %d) healed %s:\n", pid, esc(opts.Volume))
	printResult(opts.F.IO.Out, opts, &heal.Result{Healed: r.Healed, Bytes: r.Bytes, Left: r.Left, Resolved: r.Resolved, Passes: r.Passes})
	if r.Err != "" {
		return true, fmt.Errorf("heal %s: the heal daemon's round: %s", opts.Volume, r.Err)
	}
	if len(r.Left) > 0 {
		return true, errReported
	}
	return true, nil
}

// ioIdle puts every thread of this process in the idle I/O scheduling
// class (ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO_CLASS_IDLE)), as ionice
// -c3 does: schedulers that honour it (BFQ) serve the daemon's reads and
// writes only when no client waits.
func ioIdle() error {
	const whoProcess, classIdle, classShift = 1, 3, 13
	if _, _, e := unix.Syscall(unix.SYS_IOPRIO_SET, whoProcess, 0, classIdle<<classShift); e != 0 {
		return e
	}
	return nil
}
