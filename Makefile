# ovsha — build, test and lab entry points. `make help` lists them.

# Debian installs Go under /usr/local/go; sudo's secure_path drops it.
ifeq ($(shell command -v go 2>/dev/null),)
export PATH := /usr/local/go/bin:$(PATH)
endif

GO          ?= go
BIN         := bin
TEST_TIMEOUT ?= 30m
FUZZTIME    ?= 20s
# Debian packages the tests and the lab need (root-only tests use them).
DEB_PKGS    := iproute2 nftables iptables ethtool openvswitch-switch iputils-arping tcpdump resource-agents util-linux mtools dosfstools

.PHONY: help build deps test vet bench fuzz lab lab-down sim clean

help:
	@echo "make build     build bin/ovshad and bin/ovsha"
	@echo "make test      install what the tests need, then go vet and go test (root runs the namespace tests too)"
	@echo "make bench     run the benchmarks"
	@echo "make fuzz      run every fuzz target for $(FUZZTIME)"
	@echo "make lab       install OVS if missing, build, start the gateway lab (root): 3 nodes, switches, client, wan"
	@echo "make lab-down  stop the lab and remove everything it created"
	@echo "make sim       seeded Totem simulation over 1000 seeds"
	@echo "make image     build the appliance disk image (dist/; SIGNING_KEY=key.pem signs it)"
	@echo "make image-test  boot test: two VMs under QEMU, quorate cluster, A/B upgrade and rollback (root)"

build:
	$(GO) build -trimpath -o $(BIN)/ovshad ./cmd/ovshad
	$(GO) build -trimpath -o $(BIN)/ovsha ./cmd/ovsha

# deps installs the missing Debian packages (only when one is missing, so it
# is fast on a prepared machine) and the Go modules.
deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "note: missing Debian packages:$$missing (root-only tests skip anyway; run as root to install)" >&2; \
	  else \
	    echo "installing Debian packages:$$missing"; \
	    apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq $$missing >/dev/null; \
	  fi; \
	fi
	$(GO) mod download

vet:
	$(GO) vet ./...

test: deps vet
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

# Packages with benchmarks / fuzz targets, found from the sources.
BENCH_PKGS = $(shell grep -rl --include='*_test.go' '^func Benchmark' . | xargs -r -n1 dirname | sort -u)
FUZZ_PKGS  = $(shell grep -rl --include='*_test.go' '^func Fuzz' . | xargs -r -n1 dirname | sort -u)

bench:
	$(GO) test -count=1 -run '^$$' -bench . -benchmem $(BENCH_PKGS)

fuzz:
	@set -e; for pkg in $(FUZZ_PKGS); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

lab: deps build
	$(BIN)/ovsha lab up

lab-down: build
	$(BIN)/ovsha lab down

sim: build
	$(BIN)/ovsha sim --seeds 1000

clean:
	rm -rf $(BIN)

# The appliance image: make image, make image-test (see image/README.md).
include image/image.mk
