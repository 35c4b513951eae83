# Benchmarks (not part of make test): AF_XDP vs kernel UDP on the same node,
# the storage engine vs fio; report in build/bench/report.md. See scripts/bench.py.
.PHONY: bench
bench: $(B)/ferry | check-deps
	python3 scripts/bench.py
