/*
 * tgpulse-warehouse: runs the ClickHouse engine that the `chdb` npm package
 * ships (libchdb.so) as clickhouse-local, through its C entry point, so that
 * it can open the real HTTP and native listeners: a local ClickHouse server.
 *
 * Every argument is handed to clickhouse-local unchanged. Two things are
 * added around it:
 * - it dies with its parent (PR_SET_PDEATHSIG), so a warehouse never
 *   outlives the tgpulse process that started it, even after a SIGKILL;
 * - the engine's error message goes to stderr with exit code 1.
 *
 * Built by scripts/build-warehouse.sh at install time.
 */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

typedef struct chdb_result_ chdb_result;
extern chdb_result *chdb_query_cmdline(int argc, char **argv);
extern const char *chdb_result_error(chdb_result *result);
extern char *chdb_result_buffer(chdb_result *result);
extern size_t chdb_result_length(chdb_result *result);

int main(int argc, char **argv) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
    perror("tgpulse-warehouse: prctl(PR_SET_PDEATHSIG)");
    return 2;
  }
  /* The parent may have died before prctl took effect: then we were re-parented. */
  const char *parent = getenv("TGPULSE_WAREHOUSE_PARENT_PID");
  if (parent != NULL && (pid_t)atol(parent) != getppid()) return 3;

  chdb_result *result = chdb_query_cmdline(argc, argv);
  if (result == NULL) {
    fputs("tgpulse-warehouse: the engine returned no result\n", stderr);
    return 2;
  }
  const char *error = chdb_result_error(result);
  if (error != NULL && error[0] != '\0') {
    fprintf(stderr, "%s\n", error);
    return 1;
  }
  fwrite(chdb_result_buffer(result), 1, chdb_result_length(result), stdout);
  return 0;
}
