# Chunk store benchmark (not part of make test): engine vs fio on one file,
# and open time with 1M chunks. See scripts/bench-store.sh.
.PHONY: bench-store
bench-store: | check-deps
	scripts/bench-store.sh
