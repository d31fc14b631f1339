/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ABI of libfamrt.so: the dynamic symbols it defines are exactly the
 * names listed in runtime/libfamrt.map (plus the version nodes themselves),
 * each bound to the node that lists it, and every one starts with famrt_.
 *
 * Paths: FAMRT_LIB (the library) or FAMRT_BIN_DIR/runtime/libfamrt.so, and
 * FAMRT_SRC_DIR/runtime/libfamrt.map. Needs nm (binutils); exits 77 without.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#define MAX_NAMES 1024
#define NAME_LEN 128

struct name {
	char sym[NAME_LEN];
	char node[NAME_LEN];
	int seen;
};

static struct name listed[MAX_NAMES];
static int nlisted;
static char nodes[64][NAME_LEN];
static int nnodes;
static char lib_path[4096];
static char map_path[4096];

static void paths(void)
{
	const char *lib = getenv("FAMRT_LIB");
	const char *bin = getenv("FAMRT_BIN_DIR");
	const char *src = getenv("FAMRT_SRC_DIR");

	if (!src)
		fail_msg("FAMRT_SRC_DIR is not set (run under ctest)");
	if (lib && *lib)
		snprintf(lib_path, sizeof(lib_path), "%s", lib);
	else if (bin)
		snprintf(lib_path, sizeof(lib_path), "%s/runtime/libfamrt.so",
			 bin);
	else
		fail_msg("neither FAMRT_LIB nor FAMRT_BIN_DIR is set");
	snprintf(map_path, sizeof(map_path), "%s/runtime/libfamrt.map", src);
}

/* The map file with comments removed. */
static char *read_map(void)
{
	FILE *f = fopen(map_path, "r");
	char *buf, *out;
	size_t n, o = 0;
	long sz;

	if (!f)
		fail_msg("cannot open %s", map_path);
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)sz + 1);
	out = calloc(1, (size_t)sz + 1);
	assert_non_null(buf);
	assert_non_null(out);
	n = fread(buf, 1, (size_t)sz, f);
	fclose(f);
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '/' && buf[i + 1] == '*') {
			char *e = strstr(buf + i + 2, "*/");

			if (!e)
				fail_msg("unterminated comment in %s",
					 map_path);
			i = (size_t)(e - buf) + 1;
			out[o++] = ' ';
		} else if (buf[i] == '#') {
			while (i < n && buf[i] != '\n')
				i++;
			out[o++] = '\n';
		} else {
			out[o++] = buf[i];
		}
	}
	free(buf);
	return out;
}

/* Next token: a word, or one of { } ; : */
static const char *token(const char **pp, char *tok)
{
	const char *p = *pp;
	size_t n = 0;

	while (*p && isspace((unsigned char)*p))
		p++;
	if (!*p)
		return NULL;
	if (strchr("{};:", *p)) {
		tok[0] = *p;
		tok[1] = '\0';
		*pp = p + 1;
		return tok;
	}
	while (*p && !isspace((unsigned char)*p) && !strchr("{};:", *p)) {
		if (n + 1 >= NAME_LEN)
			fail_msg("token too long in %s", map_path);
		tok[n++] = *p++;
	}
	tok[n] = '\0';
	*pp = p;
	return tok;
}

/*
 * Grammar of a version script (as used here):
 *   NODE { [global:] name; ... [local: pattern; ...] } [PARENT] ;
 */
static void parse_map(void)
{
	char *text = read_map();
	const char *p = text;
	char tok[NAME_LEN];

	while (token(&p, tok)) {
		char node[NAME_LEN];
		int global = 1;

		snprintf(node, sizeof(node), "%s", tok);
		if (!isalpha((unsigned char)node[0]) && node[0] != '_')
			fail_msg("%s: expected a version node, got \"%s\"",
				 map_path, node);
		if (nnodes == 64)
			fail_msg("too many version nodes");
		snprintf(nodes[nnodes++], NAME_LEN, "%s", node);
		if (!token(&p, tok) || strcmp(tok, "{"))
			fail_msg("%s: expected { after %s", map_path, node);
		for (;;) {
			if (!token(&p, tok))
				fail_msg("%s: unterminated node %s", map_path,
					 node);
			if (!strcmp(tok, "}"))
				break;
			if (!strcmp(tok, "global") || !strcmp(tok, "local")) {
				global = !strcmp(tok, "global");
				if (!token(&p, tok) || strcmp(tok, ":"))
					fail_msg("%s: expected ':'", map_path);
				continue;
			}
			if (global) {
				if (strpbrk(tok, "*?[") || !strcmp(tok, "extern"))
					fail_msg("%s: node %s exports a pattern "
						 "\"%s\"; list names",
						 map_path, node, tok);
				for (int i = 0; i < nlisted; i++)
					if (!strcmp(listed[i].sym, tok))
						fail_msg("%s: %s listed twice",
							 map_path, tok);
				if (nlisted == MAX_NAMES)
					fail_msg("too many names");
				snprintf(listed[nlisted].sym, NAME_LEN, "%s",
					 tok);
				snprintf(listed[nlisted].node, NAME_LEN, "%s",
					 node);
				nlisted++;
			} else if (strcmp(tok, "*")) {
				fail_msg("%s: local: should be just *, got %s",
					 map_path, tok);
			}
			if (!token(&p, tok) || strcmp(tok, ";"))
				fail_msg("%s: expected ';' after a name in %s",
					 map_path, node);
		}
		/* Optional parent node, then ';'. */
		if (!token(&p, tok))
			fail_msg("%s: expected ';' after node %s", map_path,
				 node);
		if (strcmp(tok, ";") && (!token(&p, tok) || strcmp(tok, ";")))
			fail_msg("%s: expected ';' after node %s", map_path,
				 node);
	}
	free(text);
}

static int is_node(const char *s)
{
	for (int i = 0; i < nnodes; i++)
		if (!strcmp(nodes[i], s))
			return 1;
	return 0;
}

static void test_exports_match_map(void **state)
{
	char cmd[4200];
	char line[512];
	FILE *nm;
	int status, nsyms = 0;

	(void)state;
	paths();
	parse_map();
	assert_true(nnodes > 0);
	assert_true(nlisted > 0);
	for (int i = 0; i < nlisted; i++)
		if (strncmp(listed[i].sym, "famrt_", 6))
			fail_msg("%s lists %s, which does not start with "
				 "famrt_", map_path, listed[i].sym);

	snprintf(cmd, sizeof(cmd), "nm -D --defined-only '%s'", lib_path);
	nm = popen(cmd, "r");
	assert_non_null(nm);
	while (fgets(line, sizeof(line), nm)) {
		char addr[64], type[8], sym[NAME_LEN * 2];
		char *at, *ver = NULL;
		int found = 0;

		if (sscanf(line, "%63s %7s %255s", addr, type, sym) != 3)
			fail_msg("unexpected nm line: %s", line);
		at = strchr(sym, '@');
		if (at) {
			*at = '\0';
			ver = at + 1;
			while (*ver == '@')
				ver++;
		}
		/* The version node itself, an absolute symbol. */
		if (!strcmp(type, "A") && is_node(sym))
			continue;
		nsyms++;
		if (strncmp(sym, "famrt_", 6))
			fail_msg("%s exports %s, which does not start with "
				 "famrt_", lib_path, sym);
		for (int i = 0; i < nlisted; i++) {
			if (strcmp(listed[i].sym, sym))
				continue;
			found = 1;
			listed[i].seen++;
			if (!ver || strcmp(ver, listed[i].node))
				fail_msg("%s is exported under version %s, "
					 "but listed in node %s",
					 sym, ver ? ver : "(none)",
					 listed[i].node);
		}
		if (!found)
			fail_msg("%s exports %s, which %s does not list",
				 lib_path, sym, map_path);
	}
	status = pclose(nm);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("\"%s\" failed (status 0x%x)", cmd, status);
	for (int i = 0; i < nlisted; i++)
		if (listed[i].seen != 1)
			fail_msg("%s lists %s, which %s exports %d times",
				 map_path, listed[i].sym, lib_path,
				 listed[i].seen);
	assert_int_equal(nsyms, nlisted);
	print_message("%d symbols exported, all listed in %d node(s)\n",
		      nsyms, nnodes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exports_match_map),
	};

	if (system("nm --version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "nm (binutils) not found: skipping\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
