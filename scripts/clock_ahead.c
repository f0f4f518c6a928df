/*
 * clock_ahead.so: moves the wall clock of every process it is preloaded into, and nothing
 * else. `make test-year-ahead` runs the suite under it to prove no test reads today's date.
 *
 *   LD_PRELOAD=build/clock_ahead.so CLOCK_AHEAD_SECONDS=31580220 python -m pytest
 *
 * Why not libfaketime (Debian 12's 0.9.10): it also wraps pthread, poll, sleep and the
 * monotonic clock, and in CI its pthread hooks segfaulted on the suite's threads in four
 * runs of six. Lifeline's deadlines run on the monotonic clock, which must stay real; only
 * the date is under test. So this shifts CLOCK_REALTIME (and its coarse, alarm and TAI
 * variants) as clock_gettime, gettimeofday, time and timespec_get report it: what Python,
 * OpenSSL, SQLite, Qt and date(1) read. Everything else passes straight through.
 *
 * The offset is read once, when the library loads (before any thread exists), so a test
 * changing the environment later can never race it. A process that has its own fake time
 * from faketime(1) (FAKETIME is set) keeps that time: tests use it to pin a date.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static clock_gettime_fn real_clock_gettime;
static time_t offset;
static int loaded;

static void load(void)
{
    if (loaded)
        return;
    const char *seconds = getenv("CLOCK_AHEAD_SECONDS");
    if (seconds != NULL && getenv("FAKETIME") == NULL)
        offset = (time_t)strtoll(seconds, NULL, 10);
    real_clock_gettime = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
    loaded = 1;
}

/* Runs as the library loads, while the process has a single thread. A clock read from
 * another library's constructor that comes first loads it then, still single-threaded. */
__attribute__((constructor)) static void on_load(void) { load(); }

static int is_wall_clock(clockid_t clock)
{
    return clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE
        || clock == CLOCK_REALTIME_ALARM || clock == CLOCK_TAI;
}

static int real_now(clockid_t clock, struct timespec *ts)
{
    load();
    if (real_clock_gettime == NULL)
        return (int)syscall(SYS_clock_gettime, clock, ts);
    return real_clock_gettime(clock, ts);
}

int clock_gettime(clockid_t clock, struct timespec *ts)
{
    int status = real_now(clock, ts);
    if (status == 0 && is_wall_clock(clock))
        ts->tv_sec += offset;
    return status;
}

/* glibc declares tv non-null; old callers pass NULL anyway, and must not crash here. */
#pragma GCC diagnostic ignored "-Wnonnull-compare"
int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        return -1;
    if (tv != NULL) {
        tv->tv_sec = now.tv_sec;
        tv->tv_usec = (suseconds_t)(now.tv_nsec / 1000);
    }
    if (tz != NULL) {
        struct timezone *zone = tz;
        zone->tz_minuteswest = 0;
        zone->tz_dsttime = 0;
    }
    return 0;
}

time_t time(time_t *out)
{
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        return (time_t)-1;
    if (out != NULL)
        *out = now.tv_sec;
    return now.tv_sec;
}

int timespec_get(struct timespec *ts, int base)
{
    if (base != TIME_UTC || clock_gettime(CLOCK_REALTIME, ts) != 0)
        return 0;
    return base;
}
