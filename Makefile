# The two commands of the README, and the benchmark runs of Benchmarks/RESULTS.md.
.PHONY: demo test setup bench peers

setup:
	@bash scripts/setup-system.sh

# The main job on a bundled example: a district's vaccination day through the allocator.
demo: setup
	swift run -c release slotsim-example

# Every test of the package; ends with swift test's summary.
test: setup
	swift test

# Release-mode benchmarks (ordo-one/benchmark); figures go to Benchmarks/RESULTS.md.
bench: setup
	swift package --package-path Benchmarks benchmark --no-progress

# slotsim vs the Python peers (matching, OR-Tools) on the same generated instances.
peers: setup
	bash Benchmarks/peers/compare.sh
