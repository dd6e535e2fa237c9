package main

import (
	"bufio"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ovsha/ovsha/image"
	"github.com/spf13/cobra"
)

// Where the appliance keeps the public key its images are signed with
// (built in when the image is built with SIGNING_KEY); OVSHA_IMAGE_PUBKEY
// or --pubkey select another one.
const (
	defaultPubkey = "/usr/share/ovsha/image-signing.pub"
	pubkeyEnv     = "OVSHA_IMAGE_PUBKEY"
)

func newImageCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "image",
		Short: "Appliance disk images: flash, verify, info, sign",
		Args:  cobra.NoArgs,
	}
	c.AddCommand(newImageFlashCmd(), newImageVerifyCmd(), newImageInfoCmd(),
		newImageSignCmd(), newImageKeygenCmd(), newImagePubkeyCmd())
	return c
}

// verifyFlags are the checksum/signature flags of flash, verify, upgrade.
type verifyFlags struct {
	pubkey string
	sha256 string
}

func (v *verifyFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&v.pubkey, "pubkey", "", "ed25519 public key (PEM) the image must be signed with (default: $"+pubkeyEnv+", else "+defaultPubkey+" if present)")
	cmd.Flags().StringVar(&v.sha256, "sha256", "", "expected SHA-256 of the image (default: read IMAGE.sha256)")
}

// options resolves the public key: flag, environment, appliance default.
func (v *verifyFlags) options() (image.VerifyOptions, string, error) {
	o := image.VerifyOptions{Checksum: v.sha256}
	path := v.pubkey
	if path == "" {
		path = os.Getenv(pubkeyEnv)
	}
	if path == "" {
		if _, err := os.Stat(defaultPubkey); err == nil {
			path = defaultPubkey
		}
	}
	if path == "" {
		return o, "", nil
	}
	if v.sha256 != "" {
		return o, "", usageErrorf("--sha256 cannot be combined with a public key (%s): signatures cover IMAGE.sha256", path)
	}
	pk, err := image.LoadPublicKey(path)
	if err != nil {
		return o, "", err
	}
	o.PublicKey = pk
	return o, path, nil
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func newImageFlashCmd() *cobra.Command {
	var device, seed string
	var yes bool
	var vf verifyFlags
	cmd := &cobra.Command{
		Use:   "flash IMAGE --device DEV [--seed DIR] [--yes]",
		Short: "Write an image to a disk (or a plain file) with this node's seed",
		Long: `Verify IMAGE (checksum, and signature when a public key is configured),
refuse a mounted device or the running system's disk, write the image with
progress, sync, read it back and compare, then write the seed directory (cluster.conf,
authkey, node.conf, optional cib.xml) into the ESP's ovsha/ directory.
DEV may be a plain file (created if missing).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if device == "" {
				return usageErrorf("--device is required (the disk or file to write)")
			}
			vo, key, err := vf.options()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if key != "" {
				fmt.Fprintf(out, "signature: checking against %s\n", key)
			}
			if !yes {
				if fi, err := os.Stat(device); err == nil {
					ok, err := confirm(cmd.InOrStdin(), out, fmt.Sprintf("Overwrite %s (%d MiB)? Everything on it is lost. Type yes: ", device, sizeOf(device, fi)>>20))
					if err != nil {
						return err
					}
					if !ok {
						return errors.New("not confirmed: nothing written")
					}
				} else if !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("target: %w", err)
				}
			}
			p := newProgress(cmd.ErrOrStderr())
			start := time.Now()
			res, err := image.Flash(cmd.Context(), image.FlashOptions{
				Image: args[0], Target: device, Seed: seed, Verify: vo,
				Progress: p.update, Log: newLogger(cmd.ErrOrStderr()),
			})
			p.finish()
			if err != nil {
				return err
			}
			signed := "unsigned check (no public key configured)"
			if res.Verify.Signed {
				signed = "signature valid"
			}
			fmt.Fprintf(out, "flashed %s to %s: %d MiB in %.1fs, checksum %s…, %s, read back identical\n",
				args[0], device, res.Written>>20, time.Since(start).Seconds(), res.Verify.SHA256[:16], signed)
			if len(res.SeedFile) > 0 {
				fmt.Fprintf(out, "seed written to the ESP: %s\n", strings.Join(res.SeedFile, ", "))
			} else {
				fmt.Fprintln(out, "no seed given: put cluster.conf, authkey and node.conf in the ESP's ovsha/ directory before the first boot")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&device, "device", "", "disk (/dev/sdX) or file to write the image to")
	cmd.Flags().StringVar(&seed, "seed", "", "seed directory: cluster.conf, authkey, node.conf[, cib.xml]")
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask before overwriting the target")
	vf.register(cmd)
	return cmd
}

func sizeOf(path string, fi fs.FileInfo) int64 {
	if fi.Mode().IsRegular() {
		return fi.Size()
	}
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n, _ := f.Seek(0, io.SeekEnd)
	return n
}

func confirm(in io.Reader, out io.Writer, prompt string) (bool, error) {
	fmt.Fprint(out, prompt)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("reading the answer: %w", err)
	}
	return strings.TrimSpace(line) == "yes", nil
}

func newImageVerifyCmd() *cobra.Command {
	var vf verifyFlags
	cmd := &cobra.Command{
		Use:   "verify IMAGE",
		Short: "Check an image's SHA-256 (IMAGE.sha256) and signature (IMAGE.sig)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			vo, _, err := vf.options()
			if err != nil {
				return err
			}
			p := newProgress(cmd.ErrOrStderr())
			vo.Progress = func(d, t int64) { p.update("verify", d, t) }
			res, err := image.Verify(cmd.Context(), args[0], vo)
			p.finish()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s: OK, SHA-256 %s (%d bytes)\n", args[0], res.SHA256, res.Size)
			if res.Signed {
				fmt.Fprintln(out, "signature: valid")
			} else {
				fmt.Fprintln(out, "signature: not checked (no public key configured: --pubkey or "+pubkeyEnv+")")
			}
			if res.Note != "" {
				fmt.Fprintln(out, "note:", res.Note)
			}
			return nil
		},
	}
	vf.register(cmd)
	return cmd
}

func newImageInfoCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "info IMAGE",
		Short: "Show an image's release: version, kernel, slots, package list",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			info, err := image.Info(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), info)
			}
			_, err = io.WriteString(cmd.OutOrStdout(), info.Render())
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newImageSignCmd() *cobra.Command {
	var key string
	cmd := &cobra.Command{
		Use:   "sign IMAGE --key FILE",
		Short: "Sign IMAGE.sha256 with an ed25519 key, writing IMAGE.sig",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if key == "" {
				return usageErrorf("--key is required (an ed25519 private key, PEM)")
			}
			sk, err := image.LoadPrivateKey(key)
			if err != nil {
				return err
			}
			if err := image.Sign(args[0], sk); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "signed: %s\n", image.SignaturePath(args[0]))
			return nil
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "ed25519 private key (PKCS#8 PEM)")
	return cmd
}

func newImageKeygenCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen --out PREFIX",
		Short: "Make an image signing key pair: PREFIX.key (private) and PREFIX.pub",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageErrorf("--out is required")
			}
			if err := image.GenerateKey(out+".key", out+".pub"); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s.key (keep it secret) and %s.pub\n", out, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file name prefix")
	return cmd
}

func newImagePubkeyCmd() *cobra.Command {
	var key string
	cmd := &cobra.Command{
		Use:    "pubkey --key FILE",
		Short:  "Print the public key (PEM) of an ed25519 private key",
		Hidden: true, // used by image/build/build.sh
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sk, err := image.LoadPrivateKey(key)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(image.PublicKeyPEM(sk.Public().(ed25519.PublicKey)))
			return err
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "ed25519 private key (PKCS#8 PEM)")
	return cmd
}

// progress draws "phase  done / total MiB  pct  [bar]  speed" on w:
// in place on a terminal, a line every 10% otherwise.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	phase    string
	start    time.Time
	last     time.Time
	lastTens int64
	drawn    bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&fs.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) update(phase string, done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if phase != p.phase {
		p.endLine()
		p.phase, p.start, p.lastTens = phase, now, -1
	}
	pct := int64(100)
	if total > 0 {
		pct = done * 100 / total
	}
	if p.tty {
		if now.Sub(p.last) < 200*time.Millisecond && done < total {
			return
		}
	} else if pct/10 == p.lastTens && done < total {
		return
	}
	p.last, p.lastTens = now, pct/10
	speed := float64(done) / max(now.Sub(p.start).Seconds(), 0.001) / (1 << 20)
	const width = 30
	bar := strings.Repeat("=", int(pct*width/100)) + strings.Repeat(" ", width-int(pct*width/100))
	line := fmt.Sprintf("%-14s %6d / %d MiB %3d%% [%s] %7.1f MiB/s", phase, done>>20, total>>20, pct, bar, speed)
	if p.tty {
		fmt.Fprintf(p.w, "\r%s", line)
		p.drawn = true
	} else {
		fmt.Fprintln(p.w, line)
	}
}

func (p *progress) endLine() {
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endLine()
}
