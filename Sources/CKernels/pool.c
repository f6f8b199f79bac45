/* A small thread pool for FashionLab's parallel loops. A training step hands work to the other
   cores a few times every ~300 µs; waking a sleeping thread costs tens of microseconds in a VM,
   so workers spin for a few milliseconds after each job before they sleep on a condition variable.
   One job runs at a time; a call made while another job runs (from another thread, or nested inside
   a task) runs its tasks inline on the calling thread instead of waiting. */
#include "CKernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

#define MAX_WORKERS 63

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t submit = PTHREAD_MUTEX_INITIALIZER;   /* held while a job runs */
static int worker_count = 0;

static fl_task_fn job_fn;
static void *job_ctx;
static long job_count;
static _Atomic long job_next;
static _Atomic long job_done;
static _Atomic unsigned long generation;
static _Atomic int sleepers;

static void run_tasks(void) {
    for (;;) {
        long index = atomic_fetch_add(&job_next, 1);
        if (index >= job_count) return;
        job_fn(job_ctx, index);
        atomic_fetch_add(&job_done, 1);
    }
}

static void *worker(void *unused) {
    (void)unused;
    unsigned long seen = atomic_load(&generation);
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&generation, memory_order_acquire) == seen) {
            if (++spins < 200000) { CPU_RELAX(); continue; }
            pthread_mutex_lock(&lock);
            atomic_fetch_add(&sleepers, 1);
            while (atomic_load(&generation) == seen) pthread_cond_wait(&wake, &lock);
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&lock);
        }
        seen = atomic_load(&generation);
        run_tasks();
    }
    return NULL;
}

void fl_parallel_run(long count, fl_task_fn fn, void *ctx, int threads) {
    if (threads > MAX_WORKERS + 1) threads = MAX_WORKERS + 1;
    if (count <= 1 || threads <= 1 || pthread_mutex_trylock(&submit) != 0) {
        for (long i = 0; i < count; i++) fn(ctx, i);
        return;
    }
    while (worker_count < threads - 1) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, worker, NULL) != 0) break;
        pthread_detach(thread);
        worker_count++;
    }
    job_fn = fn;
    job_ctx = ctx;
    job_count = count;
    atomic_store(&job_done, 0);
    atomic_store(&job_next, 0);
    pthread_mutex_lock(&lock);
    atomic_fetch_add_explicit(&generation, 1, memory_order_release);
    if (atomic_load(&sleepers) > 0) pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
    run_tasks();
    while (atomic_load_explicit(&job_done, memory_order_acquire) < count) CPU_RELAX();
    pthread_mutex_unlock(&submit);
}
