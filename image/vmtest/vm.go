package vmtest

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ovsha/ovsha/image"
)

// OVMF firmware files (Debian package ovmf).
const (
	ovmfCode = "/usr/share/OVMF/OVMF_CODE_4M.fd"
	ovmfVars = "/usr/share/OVMF/OVMF_VARS_4M.fd"
)

// DefaultFail are console lines that fail any wait.
var DefaultFail = []*regexp.Regexp{
	regexp.MustCompile(`Kernel panic`),
	regexp.MustCompile(`KVM internal error`),
	regexp.MustCompile(`You are in emergency mode`),
	regexp.MustCompile(image.MarkerSeedInvalid + `:`),
}

// VMConfig describes one VM.
type VMConfig struct {
	Name string
	// Dir holds the VM's overlay, firmware variables and console log.
	Dir string
	// Base is the raw image the overlay is backed by.
	Base string
	// Seed, when set, is written into the overlay's ESP (ovsha/).
	Seed string
	// Extra are raw images attached read-only as further virtio disks
	// (/dev/vdb, /dev/vdc, ...).
	Extra []string
	// NetNS and Tap connect the NIC; MAC is its address.
	NetNS, Tap, MAC string
	// DiskSize, when set (e.g. "1G"), makes the overlay bigger than the
	// image, as when the image is written to a bigger disk.
	DiskSize string
	MemMiB   int
	Accel    string // "tcg" (default) or "kvm"
}

// VM is a running QEMU guest. A guest reboot ends the QEMU process
// (-no-reboot) and the VM starts a new one on the same disk and firmware
// variables: a cold start, because OVMF's warm reset under software
// emulation sometimes took minutes before the boot loader ran.
type VM struct {
	Cfg     VMConfig
	Console *Console
	Started time.Time
	// Restarts counts guest reboots.
	Restarts int

	args     []string
	log      *os.File
	lines    *os.File
	mu       sync.Mutex
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	stopping bool
	done     chan struct{}
}

// PrepareDisk creates the VM's qcow2 overlay over the base image and
// writes the seed into the overlay's ESP: the ESP is copied out of the
// base, the seed added with mtools, and the partition written back into
// the overlay with qemu-io (the base stays untouched).
func PrepareDisk(ctx context.Context, c VMConfig) (string, error) {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", c.Dir, err)
	}
	base, err := filepath.Abs(c.Base)
	if err != nil {
		return "", err
	}
	overlay := filepath.Join(c.Dir, c.Name+".qcow2")
	os.Remove(overlay)
	args := []string{"create", "-q", "-f", "qcow2", "-F", "raw", "-b", base, overlay}
	if c.DiskSize != "" {
		args = append(args, c.DiskSize)
	}
	if err := run(ctx, "qemu-img", args...); err != nil {
		return "", err
	}
	if c.Seed == "" {
		return overlay, nil
	}
	seed, err := image.ValidateSeed(c.Seed)
	if err != nil {
		return "", fmt.Errorf("seed of %s: %w", c.Name, err)
	}
	f, err := os.Open(base)
	if err != nil {
		return "", fmt.Errorf("opening base image: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	parts, err := image.ReadGPT(f, fi.Size())
	if err != nil {
		return "", err
	}
	esp, err := image.FindPartition(parts, "esp")
	if err != nil {
		return "", err
	}
	espFile := filepath.Join(c.Dir, c.Name+"-esp.img")
	out, err := os.Create(espFile)
	if err != nil {
		return "", fmt.Errorf("creating %s: %w", espFile, err)
	}
	_, err = io.Copy(out, io.NewSectionReader(f, esp.Offset, esp.Size))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("copying the ESP out of %s: %w", base, err)
	}
	if _, err := image.WriteSeed(ctx, image.ESP{Disk: espFile}, seed.Files); err != nil {
		return "", err
	}
	if err := run(ctx, "qemu-io", "-f", "qcow2", "-c",
		fmt.Sprintf("write -q -s %s %d %d", espFile, esp.Offset, esp.Size), overlay); err != nil {
		return "", err
	}
	os.Remove(espFile)
	return overlay, nil
}

// Start boots the VM from its overlay (made by PrepareDisk).
func Start(ctx context.Context, c VMConfig, overlay string) (*VM, error) {
	if c.MemMiB == 0 {
		c.MemMiB = 1024
	}
	if c.Accel == "" {
		c.Accel = "tcg"
	}
	vars := filepath.Join(c.Dir, c.Name+"-vars.fd")
	if err := copyFile(ovmfVars, vars); err != nil {
		return nil, err
	}
	cpu := "max"
	if c.Accel == "kvm" {
		cpu = "host"
	}
	args := []string{"netns", "exec", c.NetNS, "qemu-system-x86_64",
		"-name", c.Name, "-accel", c.Accel, "-cpu", cpu, "-smp", "1", "-m", fmt.Sprint(c.MemMiB),
		"-machine", "q35", "-nographic", "-nodefaults", "-serial", "stdio", "-no-reboot",
		"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + ovmfCode,
		"-drive", "if=pflash,format=raw,unit=1,file=" + vars,
		// cache=unsafe: host flushes stalled the guest for seconds
		// (the overlay is scratch; a host crash loses the test anyway)
		"-drive", "if=virtio,format=qcow2,cache=unsafe,file=" + overlay,
	}
	for _, x := range c.Extra {
		args = append(args, "-drive", "if=virtio,format=raw,readonly=on,file="+x)
	}
	args = append(args,
		"-netdev", fmt.Sprintf("tap,id=n0,ifname=%s,script=no,downscript=no", c.Tap),
		"-device", "virtio-net-pci,netdev=n0,mac="+c.MAC,
		"-device", "virtio-rng-pci")
	logf, err := os.Create(filepath.Join(c.Dir, c.Name+".log"))
	if err != nil {
		return nil, fmt.Errorf("creating console log: %w", err)
	}
	lines, err := os.Create(filepath.Join(c.Dir, c.Name+".lines"))
	if err != nil {
		logf.Close()
		return nil, fmt.Errorf("creating console log: %w", err)
	}
	vm := &VM{Cfg: c, args: args, log: logf, lines: lines, done: make(chan struct{}), Started: time.Now()}
	vm.Console = newConsole(vm.Started, DefaultFail)
	vm.Console.stamped = lines
	stdout, err := vm.spawn()
	if err != nil {
		logf.Close()
		lines.Close()
		return nil, err
	}
	go vm.supervise(stdout)
	return vm, nil
}

// spawn starts one QEMU process.
func (vm *VM) spawn() (io.Reader, error) {
	cmd := exec.Command("ip", vm.args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting qemu for %s: %w", vm.Cfg.Name, err)
	}
	vm.mu.Lock()
	vm.cmd, vm.stdin = cmd, stdin
	vm.mu.Unlock()
	return stdout, nil
}

// supervise feeds the console and restarts QEMU after a guest reboot
// (QEMU exits 0), until Stop or a QEMU failure.
func (vm *VM) supervise(stdout io.Reader) {
	defer close(vm.done)
	defer vm.Console.close()
	for {
		vm.Console.feed(stdout, vm.log)
		vm.mu.Lock()
		cmd, stopping := vm.cmd, vm.stopping
		vm.mu.Unlock()
		err := cmd.Wait()
		if stopping || err != nil {
			if err != nil && !stopping {
				vm.Console.add(fmt.Sprintf("== qemu exited: %v", err))
			}
			return
		}
		vm.Restarts++
		vm.Console.add("== guest rebooted: qemu cold-started again")
		var serr error
		if stdout, serr = vm.spawn(); serr != nil {
			vm.Console.add("== " + serr.Error())
			return
		}
	}
}

// Send types s on the serial console.
func (vm *VM) Send(s string) error {
	vm.mu.Lock()
	w := vm.stdin
	vm.mu.Unlock()
	_, err := io.WriteString(w, s)
	return err
}

// Shell types a command at the test image's root shell on the serial
// console, once the shell answers (autologin may still be starting), and
// returns the console position from which its output appears.
func (vm *VM) Shell(ctx context.Context, command string) (int, error) {
	ready := regexp.MustCompile(`^OVSHA-SHELL-42$`)
	for {
		from := vm.Console.Len()
		// the echo of the typed line shows $((6*7)), only the output 42
		if err := vm.Send("echo OVSHA-SHELL-$((6*7))\n"); err != nil {
			return from, err
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, _, err := vm.Console.Wait(wctx, from, ready)
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return from, fmt.Errorf("%s: no root shell on the serial console: %w", vm.Cfg.Name, err)
		}
	}
	from := vm.Console.Len()
	return from, vm.Send(command + "\n")
}

// Stop ends the VM (SIGTERM, then SIGKILL) and waits for it.
func (vm *VM) Stop() error {
	vm.mu.Lock()
	vm.stopping = true
	cmd := vm.cmd
	vm.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
	select {
	case <-vm.done:
	case <-time.After(10 * time.Second):
		if cmd != nil && cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		<-vm.done
	}
	vm.log.Close()
	vm.lines.Close()
	return nil
}

func run(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("reading %s (Debian package ovmf): %w", src, err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	return nil
}

// UpgradeDisk makes an ext4 disk image holding the given images and the
// files beside them (.sha256, .sig), to attach to a VM: the images
// cannot be attached as raw disks, their GPT names (root-a, data) would
// clash with the VM's own disk.
func UpgradeDisk(ctx context.Context, dir string, images ...string) (string, error) {
	stage := filepath.Join(dir, "upgrades")
	os.RemoveAll(stage)
	if err := os.MkdirAll(stage, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", stage, err)
	}
	var total int64
	for _, img := range images {
		for _, f := range []string{img, image.ChecksumPath(img), image.SignaturePath(img)} {
			fi, err := os.Stat(f)
			if err != nil {
				if f == image.SignaturePath(img) {
					continue
				}
				return "", err
			}
			total += fi.Size()
			if err := run(ctx, "cp", "--sparse=always", f, stage); err != nil {
				return "", err
			}
		}
	}
	disk := filepath.Join(dir, "upgrades.img")
	os.Remove(disk)
	if err := run(ctx, "truncate", "-s", fmt.Sprint(total+256<<20), disk); err != nil {
		return "", err
	}
	if err := run(ctx, "mkfs.ext4", "-q", "-L", "upgrades", "-d", stage, disk); err != nil {
		return "", err
	}
	os.RemoveAll(stage)
	return disk, nil
}
