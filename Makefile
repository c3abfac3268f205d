# streamlit_ops.deploy — the commands the README names.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

S ?=
ARGS ?=

.PHONY: help setup lint docs test molecule pytest build clean demo demo-heroku destroy bench

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## Install Debian packages, start Docker, build base images, create .venv
	@scripts/setup.sh

lint: setup ## yamllint, ansible-lint (production profile), ruff, role docs drift, changelog, ansible-test sanity
	yamllint --strict .
	ansible-lint
	ruff check scripts tests molecule demo bench
	ruff format --check scripts tests molecule demo bench
	python scripts/role_docs.py --check
	antsibull-changelog lint
	scripts/sanity.sh

docs: setup ## Regenerate each role README's variable table from its argument specs
	python scripts/role_docs.py

molecule: setup ## Run one Molecule scenario's full test sequence: make molecule S=<scenario>
	@test -n "$(S)" || { echo "usage: make molecule S=<scenario> (one of: $$(ls molecule | grep -v shared | tr '\n' ' '))"; exit 2; }
	molecule test -s $(S)

pytest: setup ## Run the controller-side pytest suites under tests/
	pytest tests

test: setup ## Everything: lint, every Molecule scenario, every pytest suite
	@scripts/run-tests.sh

demo: setup ## Deploy the example app through the AWS emulator to local twins: make demo ARGS='-e ...'
	@scripts/demo.sh up $(ARGS)

demo-heroku: setup ## Deploy the example app to the local Heroku stand-in with playbooks/heroku.yml: make demo-heroku ARGS='-e ...'
	@scripts/demo.sh heroku-up $(ARGS)

destroy: ## Remove everything make demo and make demo-heroku created (safe to repeat)
	@scripts/demo.sh down

bench: setup ## Benchmarks against the manual baseline into bench/results/ (QUICK=1: one short iteration)
	python bench/run.py $(if $(QUICK),--quick)

build: setup ## Build the collection tarball into build/
	ansible-galaxy collection build --force --output-path build .

clean: ## Remove build output and test containers (keeps .venv and images)
	rm -rf build .cache
	-docker ps -aq --filter name=^sod- | xargs -r docker rm -f
