# Appliance image targets (issue 8), included from the top-level Makefile.
#
#   make image        build dist/ovsha-VERSION-amd64.img (+ .zst, .sha256,
#                     .packages, .release.json; .sig with SIGNING_KEY=key.pem)
#   make image-test   boot test under QEMU (root; installs missing host tools)
#
# Variables: IMAGE_VERSION, VARIANT (release|test), SIGNING_KEY (ed25519
# PEM private key; without it the image is an unsigned development image),
# IMAGE_DIST (dist), IMAGE_BUILD_DIR (/var/tmp/ovsha-image).

IMAGE_VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.0.0-dev)
VARIANT         ?= release
SIGNING_KEY     ?=
IMAGE_DIST      ?= dist
IMAGE_BUILD_DIR ?= /var/tmp/ovsha-image

.PHONY: image image-test image-tools

image-tools:
	image/build/host-tools.sh --install build

image: image-tools
	VERSION=$(IMAGE_VERSION) VARIANT=$(VARIANT) SIGNING_KEY=$(SIGNING_KEY) \
	  DIST=$(abspath $(IMAGE_DIST)) BUILD_DIR=$(IMAGE_BUILD_DIR) image/build/build.sh

image-test:
	BUILD_DIR=$(IMAGE_BUILD_DIR) image/build/image-test.sh
