# Two commands set everything up on a fresh machine:
#   make demo   -> .venv, install, train node2vec on corpora/karate.edgelist and skip-gram on
#                  corpora/austen-emma.txt.gz, evaluate both, print
#   make test   -> .venv with test extras, run the test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

.PHONY: demo test install bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	@echo "== 1. node2vec on Zachary's karate club (34 members who split into two factions)"
	$(VENV)/bin/embedkit train node2vec corpora/karate.edgelist -o demo-karate.vec \
		--dim 32 --p 1 --q 0.5 --seed 0
	@echo "== accuracy near 1 below: a linear classifier on the vectors tells the two factions apart"
	$(VENV)/bin/embedkit evaluate nodeclass demo-karate.vec corpora/karate.labels
	@echo "== AUC: held-out friendships scored above random non-edges (0.5 = chance; 8 test edges, so coarse)"
	$(VENV)/bin/embedkit evaluate linkpred corpora/karate.edgelist --method node2vec --dim 32 --seed 0
	$(VENV)/bin/embedkit neighbors demo-karate.vec 1 -k 5
	@echo "== 2. skip-gram on Jane Austen's Emma (157k words: a small corpus)"
	$(VENV)/bin/embedkit train skipgram corpora/austen-emma.txt.gz -o demo-emma.vec \
		--unit paragraph --dim 50 --epochs 10 --seed 0
	$(VENV)/bin/embedkit neighbors demo-emma.vec father -k 5
	@echo "== WS353: Spearman correlation with human similarity judgements, on the few pairs a novel covers;"
	@echo "== a smoke test (well above 0 = learned something), not a benchmark: see docs/benchmarks.md for real figures"
	$(VENV)/bin/embedkit evaluate similarity demo-emma.vec --dataset wordsim353

test: $(VENV)/.installed
	$(PY) -m pytest -q

# Benchmarks are run by hand; peers (PecanPy) get their own venv since they pin older numpy.
bench: $(VENV)/.installed
	$(PY) benchmarks/node2vec_vs_pecanpy.py

clean:
	rm -rf $(VENV) .venv-peers demo-karate.vec demo-emma.vec
