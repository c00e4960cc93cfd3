# dropfront. `make run` and `make test` work on a fresh machine (see README.md).
SHELL := /bin/bash
# Python 3.13, the Lambda runtime the package's bytecode is compiled for: pyenv's (on PATH or in
# ~/.pyenv), else python3.13 on PATH.
PYTHON_VERSION := 3.13
PY ?= $(firstword $(shell PYENV_VERSION=$(PYTHON_VERSION).0 pyenv which python 2>/dev/null) \
  $(wildcard $(HOME)/.pyenv/versions/$(PYTHON_VERSION).*/bin/python) $(shell command -v python$(PYTHON_VERSION)))
VENV := .venv
BIN := $(VENV)/bin
MADE_WITH := $(VENV)/.python-$(PYTHON_VERSION)
LOCALES := en fr de es ja ar
MO := $(foreach l,$(LOCALES),chalicelib/translations/$(l)/LC_MESSAGES/messages.mo)

DYNALITE := tests/emulators/node_modules/dynalite/cli.js
EDITOR_JS := chalicelib/studio/static/editor.js
ESBUILD := studio-editor/node_modules/.bin/esbuild

.PHONY: help venv run test lint typecheck bench replay package catalogs emulators editor extract-messages tags import synth deploy clean

help:
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(MADE_WITH): requirements.txt requirements-dev.txt
	@"$(PY)" -c 'import sys; sys.exit(sys.version_info[:2] != tuple(map(int, "$(PYTHON_VERSION)".split("."))))' 2>/dev/null || { \
	  echo "dropfront needs Python $(PYTHON_VERSION), the Lambda runtime its package is compiled for: 'pyenv install $(PYTHON_VERSION)', or make PY=/path/to/python$(PYTHON_VERSION) (found: '$(PY)')" >&2; exit 1; }
	@if [ -d $(VENV) ] && [ ! -e $@ ]; then echo "$(VENV) was made with another Python: making it again"; rm -rf $(VENV); fi
	"$(PY)" -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

venv: $(MADE_WITH) ## create the virtualenv (Python 3.13) and install everything

chalicelib/translations/%/LC_MESSAGES/messages.mo: chalicelib/translations/%/LC_MESSAGES/messages.po | venv
	$(BIN)/pybabel compile -d chalicelib/translations -l $* -o $@ -i $<

catalogs: $(MO) ## compile the gettext catalogs

$(DYNALITE): tests/emulators/package.json tests/emulators/package-lock.json
	npm ci --prefix tests/emulators --no-audit --no-fund --loglevel=error
	touch $@

emulators: $(DYNALITE) ## install dynalite (npm), the second DynamoDB engine the tests use

$(ESBUILD): studio-editor/package.json studio-editor/package-lock.json
	npm ci --prefix studio-editor --no-audit --no-fund --loglevel=error
	touch $@

$(EDITOR_JS): studio-editor/editor.js $(ESBUILD)
	$(ESBUILD) studio-editor/editor.js --bundle --minify --format=iife --target=es2020 --log-level=warning --outfile=$@

editor: $(EDITOR_JS) ## bundle the studio's template editor (CodeMirror 6, from npm) with esbuild

extract-messages: venv ## re-extract UI strings and merge them into every catalog
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 --no-location --omit-header -o chalicelib/translations/messages.pot .
	$(BIN)/pybabel update -d chalicelib/translations -i chalicelib/translations/messages.pot --no-fuzzy-matching

run: venv catalogs editor ## start the embedded DynamoDB, seed the demo drop, serve the shopper app on :8000
	$(BIN)/python -m devtools.run

test: venv catalogs emulators editor lint typecheck ## every check: ruff, import contracts, mypy --strict, then all tests (unit, moto, browser, packaging), a worker per core
	$(BIN)/python -m pytest -n auto --dist loadgroup

lint: venv ## ruff, and the layering contracts (import-linter, [tool.importlinter] in pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: venv ## mypy --strict
	$(BIN)/mypy

replay: venv ## make replay DECISION=<id>: a logged pricing decision recomputed against its policy version
	@test -n "$(DECISION)" || { echo "usage: make replay DECISION=<decision id>"; exit 2; }
	$(BIN)/python -m devtools.replay "$(DECISION)"

bench: venv catalogs editor emulators ## benchmarks against the targets in docs/design.md; writes bench/results/latest.json
	$(BIN)/python -m bench
	$(BIN)/python -m bench.imports --rows 2000 --every 10 --out bench/results/imports.json
	$(BIN)/python -m bench.outage --out bench/results/outage.json
	$(BIN)/python -m bench.load_model --out bench/results/load_model.json
	$(BIN)/python -m bench.waiting_room --out bench/results/waiting_room.json
	$(BIN)/python -m bench.edge_spike --out bench/results/edge_spike.json

DROP ?= linen-lab
POPUP ?= paris-marais
BASE_URL ?= http://127.0.0.1:8000
tags: venv ## QR tag sheets (SVG) and PNGs for a pop-up, from the `make run` database: DROP=… POPUP=… BASE_URL=…
	DROPFRONT_DYNAMODB_ENDPOINT=$${DROPFRONT_DYNAMODB_ENDPOINT:-http://127.0.0.1:8002} \
	DROPFRONT_SECRET_KEYS=$${DROPFRONT_SECRET_KEYS:-local-dev-only-not-a-secret} \
	AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-testing} AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-testing} \
	$(BIN)/python -m devtools.tags --drop $(DROP) --popup $(POPUP) --base-url $(BASE_URL) --out build/tags/$(POPUP)

# The CDK app runs on jsii (Node); Node 20 works but jsii warns about its age on every run.
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
STAGE ?= dev
CDK_OUT := build/cdk.out
synth: venv catalogs editor ## the CloudFormation for dev and prod into build/cdk.out (offline), cfn-lint and cdk-nag checked
	$(BIN)/python -m infra.cdk_app
	$(BIN)/cfn-lint --config-file infra/cfnlintrc.yaml -- $(CDK_OUT)/dropfront-*.template.json

deploy: synth ## deploy a stage to the AWS account in your environment: STAGE=dev|prod (needs AWS credentials)
	npx --yes aws-cdk@2 deploy --app $(CDK_OUT) dropfront-$(STAGE) --require-approval broadening \
	  --outputs-file build/outputs-$(STAGE).json
	$(BIN)/python -m devtools.post_deploy --outputs build/outputs-$(STAGE).json

CSV ?= devtools/demo_import.csv
IMPORT_DROP ?= winter-knit
import: venv ## import products, sizes and stock from CSV into the `make run` database: IMPORT_DROP=… CSV=…
	DROPFRONT_DYNAMODB_ENDPOINT=$${DROPFRONT_DYNAMODB_ENDPOINT:-http://127.0.0.1:8002} \
	DROPFRONT_SECRET_KEYS=$${DROPFRONT_SECRET_KEYS:-local-dev-only-not-a-secret} \
	AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-testing} AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-testing} \
	$(BIN)/python -m devtools.import_csv --drop $(IMPORT_DROP) $(CSV)

package: venv catalogs editor ## the Lambda deployment package, with precompiled bytecode
	$(BIN)/python -m devtools.package build/package

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache $(MO)
