// A real `sentinel serve` process for end-to-end tests: started with fork/exec, its address
// read from its first stdout line, stopped with SIGTERM (or killed with SIGKILL by the
// durability test).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace sentinel::test {

// Runs SENTINEL_BINARY with `args` (a shell fragment), stderr discarded; its stdout without
// trailing newlines. The exit code goes to *exit_code when given.
inline std::string SentinelOutput(const std::string& args, int* exit_code = nullptr) {
  const std::string cmd = std::string("'") + SENTINEL_BINARY + "' " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  if (exit_code) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

struct CommandResult {
  int code = -1;
  std::string out, err;
};

// Runs SENTINEL_BINARY with `args` (a shell fragment) and keeps its exit code, stdout and
// stderr; stderr passes through a file in `scratch_dir`.
inline CommandResult SentinelCommand(const std::string& args,
                                     const std::filesystem::path& scratch_dir) {
  const std::filesystem::path err_file = scratch_dir / "stderr.txt";
  const std::string cmd =
      std::string("'") + SENTINEL_BINARY + "' " + args + " 2>'" + err_file.string() + "'";
  FILE* p = popen(cmd.c_str(), "r");
  CommandResult result;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) result.out.append(buf, n);
  const int status = pclose(p);
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file);
  std::stringstream text;
  text << in.rdbuf();
  result.err = text.str();
  return result;
}

class ServerProcess {
 public:
  // Runs SENTINEL_BINARY with `args` (serve ... --listen 127.0.0.1:0 is added), waits until it
  // prints its address. Returns false (with the reason in error()) when it does not come up.
  bool Start(const std::vector<std::string>& args, const std::string& log_path,
             std::chrono::seconds timeout = std::chrono::seconds(120)) {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) return Fail("pipe failed");
    pid_ = fork();
    if (pid_ < 0) return Fail("fork failed");
    if (pid_ == 0) {
      dup2(pipe_fds[1], STDOUT_FILENO);
      const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (log >= 0) dup2(log, STDERR_FILENO);
      close(pipe_fds[0]);
      std::vector<std::string> full = {SENTINEL_BINARY, "serve"};
      full.insert(full.end(), args.begin(), args.end());
      full.push_back("--listen");
      full.push_back("127.0.0.1:0");
      std::vector<char*> argv;
      for (auto& a : full) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(SENTINEL_BINARY, argv.data());
      _exit(127);
    }
    close(pipe_fds[1]);
    out_fd_ = pipe_fds[0];
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string text;
    static const std::regex address(R"(at http://127\.0\.0\.1:(\d+)/api/v1)");
    std::smatch m;
    fcntl(out_fd_, F_SETFL, O_NONBLOCK);
    while (std::chrono::steady_clock::now() < deadline) {
      char buf[4096];
      const ssize_t n = read(out_fd_, buf, sizeof buf);
      if (n > 0) {
        text.append(buf, static_cast<std::size_t>(n));
        if (std::regex_search(text, m, address)) {
          port_ = std::stoi(m[1].str());
          stdout_ = text;
          return true;
        }
      } else if (n == 0) {
        return Fail("server exited before listening: " + text);
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    return Fail("server did not listen in time: " + text);
  }

  void Kill(int sig) {
    if (pid_ > 0) {
      kill(pid_, sig);
      int status = 0;
      waitpid(pid_, &status, 0);
      exit_status_ = status;
      pid_ = -1;
    }
    if (out_fd_ >= 0) {
      close(out_fd_);
      out_fd_ = -1;
    }
  }
  ~ServerProcess() { Kill(SIGKILL); }

  int port() const { return port_; }
  const std::string& stdout_text() const { return stdout_; }
  const std::string& error() const { return error_; }
  int exit_status() const { return exit_status_; }

 private:
  bool Fail(std::string why) {
    error_ = std::move(why);
    Kill(SIGKILL);
    return false;
  }
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int port_ = 0;
  int exit_status_ = 0;
  std::string stdout_, error_;
};

}  // namespace sentinel::test
