// A thread of its own at a lower scheduling priority ("background"), on which a context runs its
// llama.cpp work when the engine serves a UI: llama_decode, and the creation of ggml's CPU worker
// threads, which then start at the same lower priority.
//
// Why a thread of its own: the decode workers of the Node-API addon run on libuv's shared pool,
// and on Linux an unprivileged thread can raise its nice value but never lower it again, so a
// pool thread once lowered would stay slow for every later file read or zip. This thread lives
// exactly as long as its context.
//
// How the priority is lowered, per platform:
//   Linux   : the thread's own nice value + BACKGROUND_NICE_STEP (capped at 19), set with
//             setpriority() on its thread id. Threads created from it (ggml's pool, which uses
//             pthreads, no OpenMP, in the prebuilt CPU libraries) inherit its nice value.
//   macOS   : QoS class "utility" (pthread_set_qos_class_self_np). Neither compiled nor tested here.
//   Windows : THREAD_PRIORITY_BELOW_NORMAL. Windows threads do not inherit a priority, so the
//             context also asks ggml for GGML_SCHED_PRIO_LOW, which ggml's Windows code applies
//             to each worker (background_pool_priority()). Neither compiled nor tested here.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "llama_library.h"

// how far the decode thread's nice value is raised above the process's (Linux)
constexpr int BACKGROUND_NICE_STEP = 10;

class background_thread {
public:
    // Starts the thread; it lowers its own priority before running anything.
    background_thread();
    // Stops the thread and joins it. No job may be running.
    ~background_thread();

    background_thread(const background_thread &) = delete;
    background_thread & operator=(const background_thread &) = delete;

    // Runs `job` on this thread and waits for it; an exception from `job` is rethrown here.
    void run(const std::function<void()> & job);

    // the kernel's id of the thread (Linux); 0 elsewhere
    int64_t thread_id() const { return thread_id_; }
    // why lowering the priority failed (the thread then runs at the caller's priority); empty when it worked
    const std::string & priority_error() const { return priority_error_; }

private:
    void loop();

    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable wake_;      // a job is posted, or stop
    std::condition_variable finished_;  // the posted job ran
    const std::function<void()> * job_ = nullptr;
    std::exception_ptr job_error_;
    bool job_done_ = false;
    bool stop_ = false;
    bool started_ = false;
    int64_t thread_id_ = 0;
    std::string priority_error_;
};

// The ggml threadpool priority for a background context: GGML_SCHED_PRIO_LOW on Windows (its
// threads do not inherit), GGML_SCHED_PRIO_NORMAL ("keep what was inherited") elsewhere — on
// Linux ggml's LOW would switch the threads to SCHED_BATCH rather than lower their nice value.
ggml_sched_priority background_pool_priority();
