#include "event_listeners.h"

#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "sluice/events.h"
#include "sluice/session.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace sluice::python {

namespace {

/// What the dispatcher thread shares with the listener. Shared, so that a listener
/// dropped on an engine thread (an execution that outlived the listener's removal) never
/// leaves the thread with a dangling pointer.
struct Dispatch {
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::string> lines;  // events as JSON, oldest first
  bool stopping = false;
  nb::object callback;  // touched only with the GIL
};

void RunDispatch(const std::shared_ptr<Dispatch>& dispatch) {
  while (true) {
    std::string line;
    {
      std::unique_lock<std::mutex> lock(dispatch->mutex);
      dispatch->wake.wait(lock, [&] { return dispatch->stopping || !dispatch->lines.empty(); });
      if (dispatch->lines.empty()) break;  // stopping, and everything delivered
      line = std::move(dispatch->lines.front());
      dispatch->lines.pop_front();
    }
    nb::gil_scoped_acquire gil;
    try {
      dispatch->callback(line);
    } catch (nb::python_error& error) {
      // Nobody to raise it to: Python's unraisable hook reports it, and the callback
      // keeps getting events.
      error.discard_as_unraisable(dispatch->callback);
    }
  }
  nb::gil_scoped_acquire gil;
  dispatch->callback.reset();
}

/// Queues each event and calls a Python function with it on a thread of its own: engine
/// threads never wait for the GIL or for Python code.
class PythonEventListener : public ExecutionListener {
 public:
  PythonEventListener(nb::object callback, bool progress)
      : dispatch_(std::make_shared<Dispatch>()), progress_(progress) {
    dispatch_->callback = std::move(callback);
    thread_ = std::thread([dispatch = dispatch_] { RunDispatch(dispatch); });
  }
  ~PythonEventListener() override {
    // Stop() was not called (the interpreter is going away, or an engine thread drops
    // the last reference): let the thread finish on its own.
    if (thread_.joinable()) {
      RequestStop();
      thread_.detach();
    }
  }

  void OnEvent(const ExecutionEvent& event) override {
    if (!progress_ && event.kind == ExecutionEventKind::kProgress) return;
    std::string line = ExecutionEventToJson(event);
    {
      std::lock_guard<std::mutex> lock(dispatch_->mutex);
      if (dispatch_->stopping) return;
      dispatch_->lines.push_back(std::move(line));
    }
    dispatch_->wake.notify_one();
  }
  bool WantsProgress() const override { return progress_; }

  /// Delivers what is queued, then stops the thread. Called with the GIL held.
  void Stop() {
    RequestStop();
    if (!thread_.joinable()) return;
    nb::gil_scoped_release release;  // the thread needs it to deliver
    thread_.join();
  }

 private:
  void RequestStop() {
    {
      std::lock_guard<std::mutex> lock(dispatch_->mutex);
      dispatch_->stopping = true;
    }
    dispatch_->wake.notify_one();
  }

  std::shared_ptr<Dispatch> dispatch_;
  const bool progress_;
  std::thread thread_;
};

}  // namespace

void RegisterEventListeners(nb::module_& m) {
  nb::class_<PythonEventListener>(m, "EventListener");
  m.def(
      "add_event_listener",
      [](Session& session, nb::object callback, bool progress) {
        auto listener = std::make_shared<PythonEventListener>(std::move(callback), progress);
        session.AddListener(listener);
        return listener;
      },
      "session"_a, "callback"_a, "progress"_a,
      "Calls callback(json_line) for each event of the session's executions, on a thread of "
      "its own; returns the handle to pass to remove_event_listener.");
  m.def(
      "remove_event_listener",
      [](Session& session, PythonEventListener& listener) {
        session.RemoveListener(&listener);
        listener.Stop();
      },
      "session"_a, "listener"_a,
      "Stops the listener after it has delivered the events already queued.");
}

}  // namespace sluice::python
