// fileread.c: what it costs a process to read an export file that sits
// in the page cache, and cut it into lines (memchr for each '\n'), three
// ways, to weigh the audit's mapped file against the alternatives:
//
//   mode 0: mapped read-only (MADV_SEQUENTIAL), cut in pieces, the pages
//           read dropped every 8 MiB from 2 MiB before the last drop
//           (MADV_DONTNEED), as audit/source_map.go does;
//   mode 1: pread(2) of each piece into a reused ring of buffers, then cut
//           there (the copy leaves the bytes in the core's caches);
//   mode 2: mode 1 with the ring advised MADV_HUGEPAGE;
//   mode 3: mode 0 with each next MiB mapped ahead of the cut by
//           MADV_POPULATE_READ (Linux 5.14 and later).
//
// It prints the CPU time (user + sys) and the sys time of the read and
// the cut alone, and the lines cut.
//
//   gcc -O2 -o /tmp/fileread tools/fileread/fileread.c
//   /tmp/fileread FILE MODE PIECE_KIB RING_MIB      # e.g. /tmp/fileread /tmp/audit.jsonl 1 64 16
//
// docs/BENCHMARKS.md, "The worker's stage around the reader and SHA-256".
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

static double cpu(int sys_only) {
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	double s = r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
	return sys_only ? s : s + r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6;
}

static long cut(const char *p, size_t n) {
	long k = 0;
	const char *e = p + n;
	while (p < e) {
		const char *q = memchr(p, '\n', e - p);
		if (!q)
			break;
		k++;
		p = q + 1;
	}
	return k;
}

int main(int argc, char **argv) {
	if (argc != 5) {
		fprintf(stderr, "usage: fileread FILE MODE PIECE_KIB RING_MIB\n");
		return 2;
	}
	int fd = open(argv[1], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0)
		return 1;
	size_t n = st.st_size;
	int mode = atoi(argv[2]);
	size_t piece = (size_t)atoi(argv[3]) << 10, ring = (size_t)atoi(argv[4]) << 20;
	double c0 = cpu(0), s0 = cpu(1);
	long k = 0;
	if (mode == 0 || mode == 3) {
		char *p = mmap(0, n, PROT_READ, MAP_SHARED, fd, 0);
		madvise(p, n, MADV_SEQUENTIAL);
		size_t rel = 0;
		for (size_t off = 0; off < n; off += piece) {
			size_t m = off + piece > n ? n - off : piece;
			if (mode == 3 && off % (1 << 20) == 0) {
				size_t b = off == 0 ? 0 : (off + (1 << 20)) & ~4095UL, e = off + (2 << 20);
				if (e > n)
					e = n;
				if (b < e)
					madvise(p + b, e - b, MADV_POPULATE_READ);
			}
			k += cut(p + off, m);
			if (off + m - rel >= (8 << 20)) {
				size_t from = rel > (2 << 20) ? rel - (2 << 20) : 0, to = (off + m) & ~4095UL;
				madvise(p + from, to - from, MADV_DONTNEED);
				rel = to;
			}
		}
	} else {
		char *buf = aligned_alloc(2 << 20, ring);
		if (mode == 2)
			madvise(buf, ring, MADV_HUGEPAGE);
		memset(buf, 0, ring); // not counted: a reused ring is mapped once
		c0 = cpu(0), s0 = cpu(1);
		size_t at = 0;
		for (size_t off = 0; off < n; off += piece) {
			size_t m = off + piece > n ? n - off : piece;
			if (at + m > ring)
				at = 0;
			if (pread(fd, buf + at, m, off) != (ssize_t)m)
				return 1;
			k += cut(buf + at, m);
			at += m;
		}
	}
	printf("mode %d piece %zuK ring %zuM: cpu %.3f sys %.3f lines %ld\n", mode, piece >> 10, ring >> 20,
	       cpu(0) - c0, cpu(1) - s0, k);
	return 0;
}
