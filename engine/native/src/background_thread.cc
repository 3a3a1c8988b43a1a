#include "background_thread.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#if defined(__linux__)
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#elif defined(__APPLE__)
#include <pthread.h>
#include <pthread/qos.h>
#elif defined(_WIN32)
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#endif

namespace {

// Lowers the calling thread's scheduling priority; returns why it could not (empty: it worked).
std::string lower_own_priority(int64_t & thread_id) {
#if defined(__linux__)
    // the thread name shows in /proc and in `top -H`; ggml's workers created from here inherit it
    pthread_setname_np(pthread_self(), "tiller-decode");
    const pid_t tid = (pid_t) syscall(SYS_gettid);
    thread_id = tid;
    errno = 0;
    const int current = getpriority(PRIO_PROCESS, (id_t) tid); // on Linux, PRIO_PROCESS with a thread id is that thread
    if (current == -1 && errno != 0) {
        return std::string("getpriority: ") + std::strerror(errno);
    }
    const int target = std::min(19, current + BACKGROUND_NICE_STEP);
    if (setpriority(PRIO_PROCESS, (id_t) tid, target) != 0) {
        return std::string("setpriority: ") + std::strerror(errno);
    }
    return {};
#elif defined(__APPLE__)
    thread_id = 0;
    pthread_setname_np("tiller-decode");
    const int err = pthread_set_qos_class_self_np(QOS_CLASS_UTILITY, 0);
    return err == 0 ? std::string() : std::string("pthread_set_qos_class_self_np: ") + std::strerror(err);
#elif defined(_WIN32)
    thread_id = 0;
    if (!SetThreadPriority(GetCurrentThread(), THREAD_PRIORITY_BELOW_NORMAL)) {
        return "SetThreadPriority failed with error " + std::to_string((unsigned long) GetLastError());
    }
    return {};
#else
    thread_id = 0;
    return "lowering a thread's priority is not implemented on this platform";
#endif
}

} // namespace

ggml_sched_priority background_pool_priority() {
#if defined(_WIN32)
    return GGML_SCHED_PRIO_LOW;
#else
    return GGML_SCHED_PRIO_NORMAL;
#endif
}

background_thread::background_thread() {
    thread_ = std::thread([this] { loop(); });
    // wait until the thread has lowered its priority, so that whatever runs first runs there lowered
    std::unique_lock<std::mutex> lock(mutex_);
    finished_.wait(lock, [this] { return started_; });
}

background_thread::~background_thread() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void background_thread::run(const std::function<void()> & job) {
    std::unique_lock<std::mutex> lock(mutex_);
    job_ = &job;
    job_done_ = false;
    job_error_ = nullptr;
    wake_.notify_one();
    finished_.wait(lock, [this] { return job_done_; });
    job_ = nullptr;
    if (job_error_) {
        std::rethrow_exception(job_error_);
    }
}

void background_thread::loop() {
    int64_t id = 0;
    std::string error = lower_own_priority(id);
    std::unique_lock<std::mutex> lock(mutex_);
    thread_id_ = id;
    priority_error_ = std::move(error);
    started_ = true;
    finished_.notify_all();
    for (;;) {
        wake_.wait(lock, [this] { return stop_ || (job_ != nullptr && !job_done_); });
        if (stop_) {
            return;
        }
        const std::function<void()> * job = job_;
        lock.unlock();
        std::exception_ptr error_of_job;
        try {
            (*job)();
        } catch (...) {
            error_of_job = std::current_exception();
        }
        lock.lock();
        job_error_ = error_of_job;
        job_done_ = true;
        finished_.notify_all();
    }
}
