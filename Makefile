# The two commands of the README, and the benchmark runs of Benchmarks/RESULTS.md.
.PHONY: demo test setup bench peers

setup:
	@bash scripts/setup-system.sh

# The main job on a bundled scenario: two weeks of a district's campaign, 10 replications.
demo: setup
	swift run -c release slotsim run scenarios/quickstart.yaml

# Every test of the package: the Python checks (schema of the bundled scenarios, a CSV
# export in pandas, the notebook, an HTML report in headless Chromium, the booking server
# fuzzed with schemathesis), then swift test with a private PostgreSQL server for the
# PostgreSQL store's tests (started and stopped by scripts/with-postgres.sh); swift test's
# summary ends the output.
test:
	@bash scripts/setup-system.sh test
	bash scripts/check-python.sh
	bash scripts/with-postgres.sh swift test

# Release-mode benchmarks (ordo-one/benchmark); figures go to Benchmarks/RESULTS.md.
bench: setup
	swift package --package-path Benchmarks benchmark --no-progress

# slotsim vs the Python peers (matching, OR-Tools) on the same generated instances.
peers:
	@bash scripts/setup-system.sh peers
	bash Benchmarks/peers/compare.sh
