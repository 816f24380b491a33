# scn.h - build, test, sanitize.
#   make          bin/scn and the examples
#   make test     every tests/test_*.c with -Wall -Wextra -Werror, then the CLI checks and
#                 the lessons (each examples/NN_*.c built by the cc line in its comment)
#   make test-mpi bin/scn-mpi (scn.h section 17, built with mpicc) over 1 and 2 ranks:
#                 bit-identity, resume, a failing rank (tests/test_mpi.sh; needs
#                 openmpi-bin, libopenmpi-dev, dataset-fashion-mnist; about a minute)
#   make asan     the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make demo     train scn-mnist briefly on Fashion-MNIST and print test accuracy
#   make bench    GEMM vs OpenBLAS, SC layer and training step vs PyTorch, DDSE's
#                 sparse products vs GEMM (bench/run.sh)
#   make fuzz     libFuzzer on every file reader, FUZZ_SECONDS (20) each (fuzz/run.sh;
#                 needs clang)
#   make portability  the core tests under gcc, clang, g++, clang++, tcc, 32-bit x86,
#                 s390x and aarch64 (qemu), two files, install, ThreadSanitizer
#                 (tests/portability.sh; .ci/run installs the compilers)
#   make install PREFIX=/usr/local   scn.h, bin/scn, pkg-config and CMake files;
#                 make uninstall PREFIX=... removes them
CC      ?= cc
CXX     ?= c++
OPT     ?= -O2 -fopenmp
WARN     = -std=c99 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L
LIBS     = -lm
TESTS    = $(patsubst tests/%.c,%,$(wildcard tests/test_*.c))
EXAMPLES = $(patsubst examples/%.c,bin/%,$(wildcard examples/*.c))

all: bin/scn $(EXAMPLES)

bin/scn: tools/scn.c tools/png.h scn.h | bin
	$(CC) $(OPT) $(WARN) -o $@ tools/scn.c $(LIBS)

# train over MPI ranks: tools/scn.c with SCN_MPI, built by the MPI wrapper
MPICC   ?= mpicc
bin/scn-mpi: tools/scn.c tools/png.h scn.h | bin
	$(MPICC) $(OPT) $(WARN) -DSCN_MPI -o $@ tools/scn.c $(LIBS)

bin/mpi_cmp: tests/mpi/cmp.c scn.h | bin
	$(CC) $(OPT) $(WARN) -o $@ tests/mpi/cmp.c $(LIBS)

bin/mpi_api: tests/mpi/api.c tests/check.h scn.h | bin
	$(MPICC) $(OPT) $(WARN) -o $@ tests/mpi/api.c $(LIBS)

test-mpi: bin/scn bin/scn-mpi bin/mpi_cmp bin/mpi_api
	sh tests/test_mpi.sh bin

bin/%: examples/%.c scn.h tools/png.h | bin
	$(CC) $(OPT) $(WARN) -o $@ $< $(LIBS)

bin:
	mkdir -p bin

# test_cxx: the header compiled as C++11, implementation included
bin/test_cxx: tests/cxx.cpp scn.h | bin
	$(CXX) $(OPT) -std=c++11 -Wall -Wextra -Werror -x c++ -o $@ tests/cxx.cpp $(LIBS)

# The tests share one compiled implementation, bin/scn_impl.o; the few that
# configure it themselves (their own allocator, assert or limits) define
# SCN_IMPLEMENTATION and compile their own copy.
OWN_IMPL = $(shell grep -l 'define SCN_IMPLEMENTATION' tests/test_*.c)

bin/scn_impl.o: scn.h | bin
	$(CC) $(OPT) $(WARN) -DSCN_IMPLEMENTATION -x c -c -o $@ scn.h

bin/test_%: tests/test_%.c tests/check.h tests/fd.h tests/common.h scn.h bin/scn_impl.o | bin
	$(CC) $(OPT) $(WARN) -o $@ $< $(if $(filter $<,$(OWN_IMPL)),,bin/scn_impl.o) $(LIBS)

# The CUDA backend (scn_cuda.cu, README "GPU backend"), built by nvcc from
# $CUDA_HOME/bin, PATH or /usr/local/cuda/bin (NVCC=... names another; one
# that does not run counts as none). With nvcc, `make test` also builds and
# runs test_cuda_host (every kernel body on the host) and test_cuda (on a
# device; one skip line without one); `make cuda` adds bin/scn-cuda.
ifeq ($(origin NVCC),undefined)
NVCC := $(shell for c in "$$CUDA_HOME/bin/nvcc" "$$(command -v nvcc)" \
                         /usr/local/cuda/bin/nvcc; do \
                    [ -n "$$c" ] && [ -x "$$c" ] && { echo "$$c"; break; }; done)
endif
HAVE_NVCC := $(shell [ -n "$(NVCC)" ] && "$(NVCC)" --version >/dev/null 2>&1 && echo 1)
CUDA_ARCH ?= -gencode 'arch=compute_90,code=[sm_90,compute_90]'
NVFLAGS   = -O2 -std=c++17 -Werror all-warnings -Xcompiler -Wall,-Wextra,-Werror,-fopenmp
CUDA_LIBS = -lcublas -lm
CUDA_TESTS = $(if $(HAVE_NVCC),test_cuda_host test_cuda)

ifeq ($(HAVE_NVCC),1)
cuda: bin/scn-cuda bin/test_cuda bin/test_cuda_host
else
cuda:
	@echo "make cuda: no nvcc (set CUDA_HOME, put nvcc on PATH or pass NVCC=); nothing built"
endif

bin/scn_cuda.o: scn_cuda.cu scn.h | bin
	$(NVCC) $(NVFLAGS) $(CUDA_ARCH) -c -o $@ scn_cuda.cu

# the CLI compiled by cc without the implementation, which scn_cuda.o holds
bin/scn-cuda: tools/scn.c tools/png.h scn.h bin/scn_cuda.o | bin
	$(CC) $(OPT) $(WARN) -DSCN_CUDA -c -o bin/scn_cli_cuda.o tools/scn.c
	$(NVCC) $(NVFLAGS) $(CUDA_ARCH) -o $@ bin/scn_cli_cuda.o bin/scn_cuda.o $(CUDA_LIBS)

bin/test_cuda: tests/test_cuda.cu tests/cuda_checks.h tests/check.h scn_cuda.cu scn.h | bin
	$(NVCC) $(NVFLAGS) $(CUDA_ARCH) -o $@ tests/test_cuda.cu $(CUDA_LIBS)

# host code only: no device code to generate
bin/test_cuda_host: tests/test_cuda_host.cu tests/cuda_checks.h tests/check.h scn_cuda.cu \
                    scn.h | bin
	$(NVCC) $(NVFLAGS) -o $@ tests/test_cuda_host.cu -lm

# after the CUDA block: make expands a rule's prerequisites when it reads the
# rule, so CUDA_TESTS must already be defined here
# test_sc_groups is test_layers.c with its own SCN_SC_SCRATCH
bin/test_sc_groups: tests/test_layers.c

test: bin/scn $(EXAMPLES) $(addprefix bin/,$(TESTS)) bin/test_cxx $(addprefix bin/,$(CUDA_TESTS))
	@sh tests/run.sh bin $(TESTS) test_cxx $(CUDA_TESTS) test_cli cli_harden api_doc lessons

# about 3.5 minutes: scn-mnist, 2 epochs (lr 0.1 then 0.01) on the first 10000
# Fashion-MNIST images without a test pass, then one test pass in scn eval
demo: bin/scn
	bin/scn train --model scn-mnist --epochs 2 --milestones 1 --limit 10000 --test-limit 0 \
	    --out bin/demo.scn
	bin/scn eval --model bin/demo.scn

# needs libopenblas-dev and python3-torch; OpenBLAS is linked by the benchmark only
bench: bin/scn bin/bench_gemm bin/bench_sparse
	sh bench/run.sh 2

bin/bench_gemm: bench/gemm.c scn.h | bin
	$(CC) $(OPT) $(WARN) -o $@ bench/gemm.c -lopenblas $(LIBS)

bin/bench_sparse: bench/sparse.c scn.h | bin
	$(CC) $(OPT) $(WARN) -o $@ bench/sparse.c $(LIBS)

ASAN = -O1 -g -fopenmp -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
asan:
	$(MAKE) clean
	$(MAKE) test OPT="$(ASAN)"
	$(MAKE) clean

# needs clang with libFuzzer; FUZZ_SECONDS=60 make fuzz for longer runs
fuzz:
	sh fuzz/run.sh

portability:
	bash tests/portability.sh

# scn.h (and scn_cuda.cu where it exists) in include/, the tool in bin/,
# scn.pc for `cc $$(pkg-config --cflags scn) app.c -lm`, and scnConfig.cmake
# for find_package(scn)
PREFIX  ?= /usr/local
VERSION  = $(shell sed -n 's/^\#define SCN_VERSION_[A-Z]* //p' scn.h | paste -sd.)
INSTALLED = include/scn.h include/scn_cuda.cu bin/scn lib/pkgconfig/scn.pc \
            lib/cmake/scn/scnConfig.cmake
install: bin/scn
	mkdir -p $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/lib/cmake/scn
	cp scn.h $(DESTDIR)$(PREFIX)/include/
	if [ -f scn_cuda.cu ]; then cp scn_cuda.cu $(DESTDIR)$(PREFIX)/include/; fi
	cp bin/scn $(DESTDIR)$(PREFIX)/bin/
	sed 's|@PREFIX@|$(PREFIX)|; s|@VERSION@|$(VERSION)|' tools/scn.pc.in \
	    >$(DESTDIR)$(PREFIX)/lib/pkgconfig/scn.pc
	cp tools/scnConfig.cmake $(DESTDIR)$(PREFIX)/lib/cmake/scn/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/,$(INSTALLED))
	-rmdir $(DESTDIR)$(PREFIX)/lib/cmake/scn 2>/dev/null

clean:
	rm -rf bin

.PHONY: all cuda test test-mpi asan demo bench fuzz portability install uninstall clean
