# QkChat: the two commands a newcomer needs are `make run` and `make test`; `make help` lists the rest.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

CONFIG ?= Release
RID ?= linux-x64
DIST := dist
SERVER_DLL := src/QkChat.Server/bin/$(CONFIG)/net10.0/qkchatd.dll
# The private stack's ports and password reach the server through QKCHAT_* variables.
STACK_ENV = eval "$$(scripts/stack.sh env)"

export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := 1

.PHONY: help build run test publish bench migrate \
        services-up services-down services-status config-docs clean deb tarball loadtest

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}' | \
	    sed -e 's|$$(CONFIG)|$(CONFIG)|g' -e 's|$$(RID)|$(RID)|g' -e 's|$$(DIST)|$(DIST)|g'

build: ## build every project ($(CONFIG))
	dotnet build QkChat.sln -c $(CONFIG) -v quiet -nologo

services-up: ## start the private MariaDB and Redis under .run/ (installs them when missing)
	scripts/stack.sh up

services-down: ## stop the private MariaDB and Redis (only the processes this checkout started)
	scripts/stack.sh down

services-status: ## show whether the private services run
	scripts/stack.sh status || true

migrate: services-up build ## apply pending migrations to the private database
	$(STACK_ENV); dotnet $(SERVER_DLL) migrate

# make run NODES=3: three nodes of one deployment (scripts/run-nodes.sh; chat 8080-8082, admin 9100-9102, logs/node-i),
# migrated once here before they start. Ctrl-C stops all of them. Without NODES: one server, as always.
NODES ?=
run: services-up build ## start the private stack, migrate, and serve chat on 127.0.0.1:8080 in the foreground (NODES=3: three nodes, 8080-8082)
	$(STACK_ENV); dotnet $(SERVER_DLL) migrate && \
	    $(if $(NODES),QKCHAT_RUN_SERVER=$(SERVER_DLL) exec scripts/run-nodes.sh $(NODES),exec dotnet $(SERVER_DLL) run)

# One script does the whole flow (tools, stack, publish, build, tests) and always prints the summary as its last
# line, also when a set-up step fails. On a failure make itself adds "make: *** [Makefile:NN: test] Error 1" after
# it (make cannot be told not to); .ci/run prints the summary once more as its own last line.
test: ## bring the stack up, publish the AOT binaries, build, run every test; ends with "N passed, M failed"
	@scripts/run-tests.sh $(CONFIG) $(RID) $(DIST)

publish: ## Native AOT binaries qkchatd, qkchat-loadgen and qkchat into dist/ (any trim/AOT warning fails)
	scripts/publish.sh $(RID) $(DIST)

deb: publish ## Debian package dist/qkchat_<version>_amd64.deb (binaries, unit, config, migrations, docs)
	scripts/package-deb.sh --bin-dir $(DIST) --out $(DIST)

tarball: publish ## relocatable dist/qkchat-<version>-linux-x64.tar.gz with a readable install.sh
	scripts/package-tarball.sh --bin-dir $(DIST) --out $(DIST)

bench: build ## run the BenchmarkDotNet micro-benchmarks (results in bench/RESULTS.md by hand)
	dotnet run -c Release --project bench/QkChat.Benchmarks -- --filter '*'

# make loadtest: a short chat run against the server `make run` serves (start that in another terminal first).
# The accounts lt000000.. are provisioned with --friends pairs into the same database and reused by later runs.
LOADGEN_DLL := bench/QkChat.LoadGen/bin/$(CONFIG)/net10.0/qkchat-loadgen.dll
LOADTEST_USERS ?= 200
LOADTEST_SECONDS ?= 10
LOADTEST_PASSWORD := loadtest-pass-1
LOADTEST_PORT ?= 8080

loadtest: ## chat, 200 users, 10 s against `make run`'s server on 127.0.0.1:8080 (run it in another terminal); prints the table
	@(exec 3<>/dev/tcp/127.0.0.1/$(LOADTEST_PORT)) 2>/dev/null || { echo "loadtest: nothing listens on 127.0.0.1:$(LOADTEST_PORT); start \`make run\` in another terminal first" >&2; exit 1; }
	@test -f $(SERVER_DLL) || { echo "loadtest: $(SERVER_DLL) is missing; \`make run\` builds it" >&2; exit 1; }
	dotnet build bench/QkChat.LoadGen -c $(CONFIG) -v quiet -nologo
	$(STACK_ENV); dotnet $(SERVER_DLL) provision-users --count $(LOADTEST_USERS) --prefix lt --password $(LOADTEST_PASSWORD) --friends pairs
	mkdir -p .run/loadtest
	dotnet $(LOADGEN_DLL) chat --host 127.0.0.1 --port $(LOADTEST_PORT) --connections $(LOADTEST_USERS) --rate 2 --ramp-up 5 \
	    --duration $(LOADTEST_SECONDS) --prefix lt --password $(LOADTEST_PASSWORD) --quiet --json .run/loadtest/chat.json

config-docs: build ## regenerate the option table in docs/configuration.md
	scripts/config-docs.sh $(SERVER_DLL)

clean: ## remove build output and dist/ (keeps .run/ data; `make services-down` stops it)
	dotnet clean QkChat.sln -v quiet -nologo >/dev/null || true
	rm -rf $(DIST) src/*/bin src/*/obj tests/*/bin tests/*/obj bench/*/bin bench/*/obj TestResults
