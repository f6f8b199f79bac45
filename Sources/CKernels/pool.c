/* A small thread pool for FashionLab's parallel loops. A training step hands work to the other
   cores a few times every ~300 µs; waking a sleeping thread costs tens of microseconds in a VM,
   so workers spin for a few milliseconds after each job before they sleep on a condition variable.
   One job runs at a time; a call made while another job runs (from another thread, or nested inside
   a task) runs its tasks inline on the calling thread instead of waiting.

   Tasks are dealt out first: thread t (the caller is 0) owns tasks t, t + n, t + 2n, … So the same slice
   of a loop lands on the same core every time, and the rows of W that a core's forward GEMM reads stay in
   that core's L2 for its weight-gradient GEMM and optimiser, which the callers split the same way (taken
   first come, first served, a slice crossed cores whenever the worker was a moment late). A thread done
   with its own tasks takes those no one has started, so a worker the OS has not scheduled (more threads
   than cores, a busy machine) delays nobody: dealt strictly, a job then waited a whole time slice. */
#include "CKernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
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

/* The job, published like a seqlock: `generation` is odd while the caller writes the fields below and even
   once they are complete. A worker copies them and keeps the copy only if `generation` did not move
   meanwhile, so a worker that was late for one job (it had no task in it) cannot mistake the next job's
   fields for that one's and run its tasks twice. */
static _Atomic(fl_task_fn) job_fn;
static _Atomic(void *) job_ctx;
static _Atomic long job_count;
static _Atomic long job_threads;
static _Atomic long job_done;
static _Atomic unsigned long generation;
static _Atomic int sleepers;
static unsigned long start_generation[MAX_WORKERS + 1];
/* Per thread t of the job: how many of its tasks t, t + n, … have been claimed, tagged with the job in the
   high 32 bits, so a claim made with an old job's copy (a worker late for it) fails instead of taking a
   task of the next job. */
static _Atomic uint64_t claims[MAX_WORKERS + 1];

struct job { fl_task_fn fn; void *ctx; long count, threads; uint64_t tag; };

static uint64_t job_tag(unsigned long generation) { return ((uint64_t)generation >> 1) & 0xFFFFFFFFu; }

/* Claims the next unstarted task of thread `owner`'s share; false when there is none (or the job is over). */
static int claim(const struct job *job, long owner, long *index) {
    uint64_t current = atomic_load_explicit(&claims[owner], memory_order_acquire);
    for (;;) {
        if (current >> 32 != job->tag) return 0;
        long next = owner + (long)(current & 0xFFFFFFFFu) * job->threads;
        if (next >= job->count) return 0;
        if (atomic_compare_exchange_weak_explicit(&claims[owner], &current, current + 1,
                                                  memory_order_acq_rel, memory_order_acquire)) {
            *index = next;
            return 1;
        }
    }
}

/* Runs thread `thread`'s own tasks (0 is the caller), then any of the others' that no one has started. */
static void run_tasks(const struct job *job, long thread) {
    for (long offset = 0; offset < job->threads; offset++) {
        long owner = (thread + offset) % job->threads, index;
        while (claim(job, owner, &index)) {
            job->fn(job->ctx, index);
            atomic_fetch_add_explicit(&job_done, 1, memory_order_release);
        }
    }
}

/* Waits until a job newer than `seen` is published and returns its generation, with the job in `job`. */
static unsigned long next_job(unsigned long seen, struct job *job) {
    int spins = 0;
    for (;;) {
        unsigned long current = atomic_load_explicit(&generation, memory_order_acquire);
        if (current != seen && current % 2 == 0) {
            job->fn = atomic_load_explicit(&job_fn, memory_order_relaxed);
            job->ctx = atomic_load_explicit(&job_ctx, memory_order_relaxed);
            job->count = atomic_load_explicit(&job_count, memory_order_relaxed);
            job->threads = atomic_load_explicit(&job_threads, memory_order_relaxed);
            atomic_thread_fence(memory_order_acquire);
            if (atomic_load_explicit(&generation, memory_order_relaxed) == current) {
                job->tag = job_tag(current);
                return current;
            }
            continue;
        }
        if (current != seen || ++spins < 200000) { CPU_RELAX(); continue; }
        pthread_mutex_lock(&lock);
        atomic_fetch_add(&sleepers, 1);
        while (atomic_load(&generation) == seen) pthread_cond_wait(&wake, &lock);
        atomic_fetch_sub(&sleepers, 1);
        pthread_mutex_unlock(&lock);
        spins = 0;
    }
}

static void *worker(void *argument) {
    const long thread = (long)argument;
    /* Created by the job about to start: the generation before it (the thread may start after it is published). */
    unsigned long seen = start_generation[thread];
    for (;;) {
        struct job job;
        seen = next_job(seen, &job);
        if (thread < job.threads) run_tasks(&job, thread);
    }
    return NULL;
}

void fl_parallel_run(long count, fl_task_fn fn, void *ctx, int threads) {
    if (threads > MAX_WORKERS + 1) threads = MAX_WORKERS + 1;
    /* Inline too when a thread's share would not fit the 32 bits of its claim counter. */
    if (count <= 1 || threads <= 1 || count / threads >= 0xFFFFFFFFL || pthread_mutex_trylock(&submit) != 0) {
        for (long i = 0; i < count; i++) fn(ctx, i);
        return;
    }
    while (worker_count < threads - 1) {
        pthread_t thread;
        start_generation[worker_count + 1] = atomic_load(&generation);
        if (pthread_create(&thread, NULL, worker, (void *)(long)(worker_count + 1)) != 0) break;
        pthread_detach(thread);
        worker_count++;
    }
    unsigned long published = atomic_load_explicit(&generation, memory_order_relaxed) + 2;
    struct job job = { fn, ctx, count, threads < worker_count + 1 ? threads : worker_count + 1, job_tag(published) };
    atomic_store_explicit(&generation, published - 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&job_fn, job.fn, memory_order_relaxed);
    atomic_store_explicit(&job_ctx, job.ctx, memory_order_relaxed);
    atomic_store_explicit(&job_count, job.count, memory_order_relaxed);
    atomic_store_explicit(&job_threads, job.threads, memory_order_relaxed);
    atomic_store_explicit(&job_done, 0, memory_order_relaxed);
    for (long t = 0; t < job.threads; t++) atomic_store_explicit(&claims[t], job.tag << 32, memory_order_relaxed);
    pthread_mutex_lock(&lock);
    atomic_store_explicit(&generation, published, memory_order_release);
    if (atomic_load(&sleepers) > 0) pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
    run_tasks(&job, 0);
    while (atomic_load_explicit(&job_done, memory_order_acquire) < count) CPU_RELAX();
    pthread_mutex_unlock(&submit);
}
