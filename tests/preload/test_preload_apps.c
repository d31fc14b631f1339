/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Applications under libfamrt_preload.so: python3 (files, seeks, the mmap
 * module, os.scandir/os.walk/os.stat, writing a new file) and sqlite3
 * reading a read-only database, each compared with the same run on the
 * same bytes in a tmpfs directory. A missing interpreter is a skip, said
 * out loud.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pl_util.h"



/* Reads every way python has; prints what it saw. argv[1]: the root. */
static const char py_read[] =
	"import glob, hashlib, mmap, os, pathlib, sys\n"
	"root = sys.argv[1]\n"
	"H = lambda b: hashlib.sha256(b).hexdigest()\n"
	"p = os.path.join(root, 'rnd')\n"
	"with open(p, 'rb') as f:\n"
	"    a = f.read(100); f.seek(123456); b = f.read(5000)\n"
	"    f.seek(-77, 2); c = f.read()\n"
	"    print('read', H(a + b + c), f.tell())\n"
	"    f.seek(0); print('whole', H(f.read()))\n"
	"    print('pread', H(os.pread(f.fileno(), 4096, 2999000)))\n"
	"with open(p, 'rb', buffering=0) as f:\n"
	"    f.seek(1 << 20); print('raw', H(f.read(3 << 20)), f.tell())\n"
	"with open(os.path.join(root, 'text')) as f:\n"
	"    lines = f.readlines()\n"
	"    print('lines', len(lines), lines[10].strip(),\n"
	"          sum(1 for l in lines if 'needle' in l))\n"
	"with open(p, 'rb') as f:\n"
	"    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)\n"
	"    print('mmap', len(m), H(m[1000:2000000]), m.find(b'\\x00\\x01\\x02'))\n"
	"    m.close()\n"
	"with open(os.path.join(root, 'inter'), 'rb') as f:\n"
	"    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ,\n"
	"                  offset=3 * mmap.ALLOCATIONGRANULARITY)\n"
	"    print('mmap-off', len(m), H(m)); m.close()\n"
	"    m = mmap.mmap(f.fileno(), 100000, access=mmap.ACCESS_COPY)\n"
	"    m[0:5] = b'hello'; print('mmap-copy', H(m[:]))\n"
	"    m.close()\n"
	"    f.seek(0); print('unchanged', H(f.read(100000)))\n"
	"t = os.path.join(root, 'tree')\n"
	"print('scandir', sorted((e.name, e.is_dir(), e.is_file(),\n"
	"      e.stat().st_size if e.is_file() else -1,\n"
	"      oct(e.stat().st_mode)) for e in os.scandir(t)))\n"
	"for r, ds, fs in sorted(os.walk(t)):\n"
	"    print('walk', r, sorted(ds), sorted(fs))\n"
	"for q in ['p4097', 'empty', 'tree/c/ro.txt', 'tree/a/b/run.sh']:\n"
	"    st = os.stat(os.path.join(root, q))\n"
	"    print('stat', q, st.st_size, oct(st.st_mode), st.st_nlink)\n"
	"print('exists', os.path.isdir(t), os.path.isfile(t),\n"
	"      os.path.exists(os.path.join(root, 'missing')),\n"
	"      os.access(os.path.join(root, 'text'), os.R_OK))\n"
	"try:\n"
	"    open(os.path.join(root, 'missing'))\n"
	"except OSError as e:\n"
	"    print('missing', type(e).__name__, e.errno)\n"
	"print('glob', sorted(os.path.relpath(x, root) for x in\n"
	"      glob.glob(os.path.join(t, '**', '*.txt'), recursive=True)))\n"
	"print('pathlib', H(pathlib.Path(root, 'tree/a/b/y.bin').read_bytes()))\n"
	"print('listdir', sorted(os.listdir(root)))\n";

/* Writes new files; prints what it reads back. */
static const char py_write[] =
	"import hashlib, os, sys\n"
	"root = sys.argv[1]\n"
	"w = os.path.join(root, 'py_text')\n"
	"with open(w, 'w') as f:\n"
	"    for i in range(20000):\n"
	"        f.write('line %d of the written file\\n' % i)\n"
	"print('size', os.path.getsize(w))\n"
	"with open(w) as f:\n"
	"    print('back', hashlib.sha256(f.read().encode()).hexdigest())\n"
	"with open(os.path.join(root, 'py_bin'), 'wb') as f:\n"
	"    f.write(b'a' * 1000); f.seek(5000); f.write(b'b' * 10)\n"
	"    f.seek(100); f.write(b'c' * 5)\n"
	"print('bin', os.path.getsize(os.path.join(root, 'py_bin')))\n"
	"fd = os.open(os.path.join(root, 'py_osfd'),\n"
	"             os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)\n"
	"os.write(fd, os.urandom(0) + bytes(range(256)) * 4000)\n"
	"os.close(fd)\n"
	"print('osfd', oct(os.stat(os.path.join(root, 'py_osfd')).st_mode))\n"
	"os.mkdir(os.path.join(root, 'py_dir'), 0o750)\n"
	"with open(os.path.join(root, 'py_dir', 'inner'), 'x') as f:\n"
	"    f.write('inner\\n')\n"
	"print('dir', sorted(os.listdir(os.path.join(root, 'py_dir'))))\n"
	"with open(os.path.join(root, 'py_own'), 'w') as f:\n"
	"    f.write('abc'); f.flush()\n"
	"    st = os.stat(os.path.join(root, 'py_own'))\n"
	"    print('own', st.st_size, oct(st.st_mode),\n"
	"          os.path.isfile(os.path.join(root, 'py_own')))\n"
	"fd = os.open(os.path.join(root, 'py_noclose'), os.O_WRONLY | os.O_CREAT,\n"
	"             0o644)\n"
	"os.write(fd, b'written, never closed\\n')\n";

static void run_py(struct pl *p, const char *name, const char *script)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", p->scratch, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(script, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	PL_SAME(p, 0, 0, "python3", path, "@R@");
}

static void t_python_read(void **state)
{
	struct pl *p = *state;

	if (!pl_need("python3", "python3 reading famrt files")) {
		skip();
		return;
	}
	run_py(p, "read.py", py_read);
}

static void t_python_write(void **state)
{
	struct pl *p = *state;

	if (!pl_need("python3", "python3 writing famrt files")) {
		skip();
		return;
	}
	run_py(p, "write.py", py_write);
	pl_same_file(p, "py_text");
	pl_same_file(p, "py_bin");
	pl_same_file(p, "py_osfd");
	pl_same_file(p, "py_dir/inner");
	/* Exit without close: committed at exit like any close. */
	pl_same_file(p, "py_noclose");
	{
		struct famrt_stat st;

		assert_int_equal(famrt_stat(p->c, "/py_osfd", &st), 0);
		assert_int_equal(st.mode & 07777, 0640);
		assert_int_equal(famrt_stat(p->c, "/py_dir", &st), 0);
		assert_int_equal(st.mode & 07777, 0750);
	}
}

/* Child processes with famrt files as their stdin and stdout. */
static const char py_procs[] =
	"import os, subprocess, sys\n"
	"root = sys.argv[1]\n"
	"j = lambda *a: os.path.join(root, *a)\n"
	"with open(j('sp_sort'), 'w') as f:\n"
	"    subprocess.run(['sort', j('text')], stdout=f, check=True)\n"
	"with open(j('text')) as f:\n"
	"    r = subprocess.run(['wc', '-l'], stdin=f, capture_output=True)\n"
	"    print('wc', r.stdout.decode().strip())\n"
	"with open(j('rnd'), 'rb') as i, open(j('sp_cat'), 'wb') as o:\n"
	"    subprocess.run(['cat'], stdin=i, stdout=o, check=True)\n"
	"with open(j('sp_head'), 'w') as f:\n"
	"    f.write('header\\n'); f.flush()\n"
	"    subprocess.run(['head', '-n', '5', j('text')], stdout=f,\n"
	"                   check=True, close_fds=False)\n"
	"print('system', os.system('cat %s > %s' % (j('tree/top.txt'),\n"
	"                                          j('sp_system'))))\n"
	"print('popen', os.popen('grep -c needle ' + j('text')).read().strip())\n"
	"for q in ['sp_sort', 'sp_cat', 'sp_head', 'sp_system']:\n"
	"    print(q, os.path.getsize(j(q)))\n";

static void t_python_procs(void **state)
{
	struct pl *p = *state;

	if (!pl_need("python3", "python3 starting programs on famrt files")) {
		skip();
		return;
	}
	run_py(p, "procs.py", py_procs);
	pl_same_file(p, "sp_sort");
	pl_same_file(p, "sp_cat");
	pl_same_file(p, "sp_head");
	pl_same_file(p, "sp_system");
}

static const char sql_make[] =
	"create table t(a integer primary key, b text, c real);"
	"with recursive s(x) as (select 1 union all select x + 1 from s "
	"where x < 30000) insert into t select x, printf('row-%05d-%s', x, "
	"hex(x * 7919 % 65521)), x * 0.5 from s;"
	"create index tb on t(b);"
	"create table u(k text primary key, v blob) without rowid;"
	"with recursive s(x) as (select 1 union all select x + 1 from s "
	"where x < 500) insert into u select 'k' || x, zeroblob(x * 17) "
	"from s;";

static const char sql_query[] =
	"select count(*), sum(a), total(c) from t;"
	"select b from t where a in (1, 777, 29999);"
	"select count(*) from t where b like 'row-1%';"
	"select a from t where b = 'row-12345-' || hex(12345 * 7919 % 65521);"
	"select k, length(v) from u where k between 'k10' and 'k12' order by k;"
	"select max(length(v)) from u;"
	"pragma integrity_check;";

static void t_sqlite(void **state)
{
	struct pl *p = *state;
	char db[512], cmd[2048];
	struct pl_res r;

	if (!pl_need("sqlite3", "sqlite3 reading a famrt database")) {
		skip();
		return;
	}
	/* Made on tmpfs with the sqlite3 CLI, no shim. */
	pl_base_path(p, "db.sqlite", db, sizeof(db));
	assert_int_equal(pl_run(p, false, (const char *const[]){
		"sqlite3", db, sql_make, NULL }, NULL, 0, &r), 0);
	if (r.status)
		pl_res_dump("sqlite3 make", &r);
	assert_int_equal(r.status, 0);
	pl_res_free(&r);
	/* Copied into famrt by cp under the shim. */
	snprintf(cmd, sizeof(cmd), "cp %s %s/db.sqlite", db, PL_MOUNT);
	assert_int_equal(pl_sh(p, true, &r, "%s", cmd), 0);
	assert_int_equal(r.status, 0);
	pl_res_free(&r);
	pl_same_file(p, "db.sqlite");
	PL_SAME(p, 0, 0, "sqlite3", "file:@R@/db.sqlite?immutable=1",
		sql_query);
	PL_SAME(p, 0, 0, "sqlite3", "-readonly", "@R@/db.sqlite", sql_query);
	PL_SAME(p, 0, 0, "sqlite3", "file:@R@/db.sqlite?immutable=1",
		".tables", ".schema t");
	/* From python's sqlite3 module as well. */
	if (pl_need("python3", "python's sqlite3 module on famrt"))
		PL_SAME(p, 0, 0, "python3", "-c",
			"import sqlite3, sys\n"
			"c = sqlite3.connect('file:' + sys.argv[1] +\n"
			"    '/db.sqlite?immutable=1', uri=True)\n"
			"print(c.execute('select count(*), sum(a) from t')"
			".fetchall())\n"
			"print(c.execute(\"select b from t where a > 29990\")"
			".fetchall())\n",
			"@R@");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_python_read),
		cmocka_unit_test(t_python_write),
		cmocka_unit_test(t_python_procs),
		cmocka_unit_test(t_sqlite),
	};

	return pl_exit_code(cmocka_run_group_tests_name("preload_apps", tests,
							pl_setup, pl_teardown));
}
