#include "test/store/backends.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pqxx/pqxx>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>

#include "adapters/postgres/pg_store.h"
#include "adapters/sqlite/sqlite_store.h"
#include "test/store/postgres_cluster.h"

extern char** environ;  // NOLINT: POSIX declares it nowhere in a header

namespace sentinel::test {
namespace {

constexpr const char* kPostgresBinDir = "/usr/lib/postgresql/15/bin";

std::string Tail(const std::string& path, std::size_t max_chars = 2000) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  return s.size() > max_chars ? s.substr(s.size() - max_chars) : s;
}

// Runs `argv` without a shell: stdin empty, stdout and stderr appended to `log`. The exit
// code, or -1 when it could not run or did not exit normally.
int RunProgram(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A TCP port on 127.0.0.1 that nothing listens on at the moment of asking: the kernel's pick
// for port 0. Another process may take it before the server binds it, so callers retry.
Result<int> FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IoError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  close(fd);
  if (!ok) return Status::IoError(std::string("bind 127.0.0.1:0: ") + std::strerror(errno));
  return static_cast<int>(ntohs(address.sin_port));
}

// One PostgreSQL 15 cluster per test process, started on first use in a private temporary
// directory with its own port and socket directory (ctest runs test processes in parallel),
// tuned for speed over durability (fsync off: it is thrown away), and stopped at exit.
//
// A reaper process does the stopping and the removal: it waits for end-of-file on a pipe
// whose only writer is this process, so the cluster goes away when this process exits, also
// when it crashes or is killed.
class PostgresCluster {
 public:
  static PostgresCluster& Instance() {
    static PostgresCluster cluster;
    return cluster;
  }

  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  ~PostgresCluster() {
    if (reaper_pipe_ >= 0) close(reaper_pipe_);
    // Wait, so the cluster is gone by the time the test process has ended.
    if (reaper_ > 0) {
      while (waitpid(reaper_, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }

  Result<std::string> CreateDatabase(const std::string& test_name) {
    std::lock_guard lock(mu_);
    if (!started_) started_ = Start();
    if (!started_->ok()) return *started_;
    std::string name = "t_";
    for (const char c : test_name) {
      name += std::isalnum(static_cast<unsigned char>(c))
                  ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                  : '_';
    }
    name.resize(std::min<std::size_t>(name.size(), 63));  // PostgreSQL's identifier limit
    try {
      pqxx::connection admin(
          fmt::format("host=127.0.0.1 port={} user=postgres dbname=postgres", port_));
      pqxx::nontransaction tx(admin);
      // Identifiers cannot be parameters; quote_name makes the test name a safe one.
      tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name) + " WITH (FORCE)");
      tx.exec("CREATE DATABASE " + tx.quote_name(name));
    } catch (const std::exception& e) {
      return Status::IoError(fmt::format("creating test database {}: {}", name, e.what()));
    }
    return fmt::format("postgresql://postgres@127.0.0.1:{}/{}", port_, name);
  }

 private:
  PostgresCluster() = default;

  // PostgreSQL refuses to run as root; tests run as root in CI.
  static bool AsRoot() { return geteuid() == 0; }

  std::vector<std::string> AsPostgres(std::vector<std::string> argv) const {
    if (!AsRoot()) return argv;
    // By its path: root's PATH in a CI job need not hold the sbin directories.
    std::string runuser = "runuser";
    for (const char* path : {"/usr/sbin/runuser", "/sbin/runuser"}) {
      if (access(path, X_OK) == 0) {
        runuser = path;
        break;
      }
    }
    std::vector<std::string> wrapped = {runuser, "-u", "postgres", "--"};
    wrapped.insert(wrapped.end(), argv.begin(), argv.end());
    return wrapped;
  }

  Status Start() {
    const std::string initdb = std::string(kPostgresBinDir) + "/initdb";
    const std::string pg_ctl = std::string(kPostgresBinDir) + "/pg_ctl";
    if (access(initdb.c_str(), X_OK) != 0 || access(pg_ctl.c_str(), X_OK) != 0) {
      return Status::NotFound(fmt::format(
          "PostgreSQL 15 server binaries not found in {} (Debian package postgresql-15)",
          kPostgresBinDir));
    }
    std::optional<passwd> postgres_user;
    if (AsRoot()) {
      const passwd* user = getpwnam("postgres");
      if (!user) {
        return Status::FailedPrecondition(
            "running as root, and there is no postgres user to run the test cluster as");
      }
      postgres_user = *user;
    }
    // As root, /tmp rather than $TMPDIR: the postgres user must be able to reach the directory.
    const std::string base =
        AsRoot() ? std::string("/tmp") : std::filesystem::temp_directory_path().string();
    std::string pattern = base + "/sentinel-pg-XXXXXX";
    if (!mkdtemp(pattern.data())) {
      return Status::IoError(fmt::format("mkdtemp {}: {}", pattern, std::strerror(errno)));
    }
    dir_ = pattern;
    data_ = dir_ + "/data";
    // From here on the directory, and the server once started, go when this process does.
    if (Status s = StartReaper(pg_ctl); !s.ok()) return s;
    if (postgres_user && chown(dir_.c_str(), postgres_user->pw_uid, postgres_user->pw_gid) != 0) {
      return Status::IoError(fmt::format("chown {}: {}", dir_, std::strerror(errno)));
    }
    const std::string log = dir_ + "/setup.log";
    const std::string server_log = dir_ + "/server.log";

    if (RunProgram(AsPostgres({initdb, "-D", data_, "--no-sync", "-E", "UTF8", "--auth=trust", "-U",
                               "postgres", "--locale=C", "--no-instructions"}),
                   log) != 0) {
      return Status::IoError("initdb failed: " + Tail(log));
    }
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto port = FreePort();
      if (!port.ok()) return port.status();
      // pg_ctl hands -o to a shell: the directory is quoted.
      const std::string server_options = fmt::format(
          "-p {} -k '{}' -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off", *port,
          dir_);
      if (RunProgram(AsPostgres({pg_ctl, "start", "-w", "-t", "60", "-D", data_, "-l", server_log,
                                 "-o", server_options}),
                     log) == 0) {
        port_ = *port;
        return Status::Ok();
      }
      // Most likely the port was taken meanwhile: try another.
    }
    return Status::IoError("the test PostgreSQL cluster did not start: " + Tail(log) +
                           Tail(server_log));
  }

  Status StartReaper(const std::string& pg_ctl) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return Status::IoError(std::string("pipe: ") + strerror(errno));
    // `read` returns at end-of-file: when this process, the pipe's only writer, has ended.
    static constexpr const char* kScript =
        R"(read -r _; data=$1; dir=$2; shift 2; "$@" stop -D "$data" -m immediate -w; rm -rf "$dir")";
    std::vector<std::string> argv = {"/bin/sh", "-c", kScript, "sentinel-pg-reaper", data_, dir_};
    for (auto& word : AsPostgres({pg_ctl})) argv.push_back(std::move(word));
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[0], 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    // Its own session: a signal to the test's process group (Ctrl-C, a ctest timeout) must not
    // take the reaper down with the test.
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, args[0], &actions, &attributes, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    close(fds[0]);
    if (spawned != 0) {
      close(fds[1]);
      return Status::IoError(std::string("cannot start the cluster reaper: ") +
                             std::strerror(spawned));
    }
    reaper_ = pid;
    reaper_pipe_ = fds[1];
    return Status::Ok();
  }

  std::mutex mu_;
  std::optional<Status> started_;  // the outcome of the one attempt to start
  std::string dir_, data_;
  int port_ = 0;
  int reaper_pipe_ = -1;
  pid_t reaper_ = -1;
};

}  // namespace

Result<std::string> CreatePostgresTestDatabase(const std::string& test_name) {
  auto url = PostgresCluster::Instance().CreateDatabase(test_name);
  // Without the binaries the PostgreSQL tests skip, except in CI, which installs them
  // (scripts/install-deps.sh): there a skip would hide that the backend went untested. Any
  // other failure to provide a database is the test's failure, never a skip.
  const char* ci = std::getenv("CI");
  const bool in_ci = ci && std::string(ci) == "true";
  if (!url.ok() && (url.status().code() != Status::Code::kNotFound || in_ci)) {
    ADD_FAILURE() << "PostgreSQL test cluster: " << url.status().ToString();
  }
  return url;
}

std::vector<std::string> Backends() { return {"sqlite", "postgresql"}; }

Result<std::unique_ptr<reports::Store>> OpenBackend(const std::string& backend,
                                                    const std::string& test_name) {
  if (backend == "sqlite") {
    const auto dir = std::filesystem::temp_directory_path() / "sentinel-store-tests";
    std::filesystem::create_directories(dir);
    std::string file = test_name;
    for (char& c : file) {
      if (c == '/') c = '_';
    }
    const auto path = dir / (file + ".db");
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(path.string() + suffix);
    }
    return sqlite::OpenSqliteStore(path.string());
  }
  if (backend == "postgresql") {
    auto url = CreatePostgresTestDatabase(test_name);
    if (!url.ok()) return url.status();
    auto store = postgres::OpenPostgresStore(*url);
    if (!store.ok()) ADD_FAILURE() << "opening the PostgreSQL store: " << store.status().ToString();
    return store;
  }
  return Status::NotFound("no backend " + backend);
}

Result<std::unique_ptr<reports::Store>> OpenExisting(const std::string& backend,
                                                     const std::string& db) {
  if (backend == "sqlite") return sqlite::OpenSqliteStore(db);
  if (backend == "postgresql") return postgres::OpenPostgresStore(db);
  return Status::NotFound("no backend " + backend);
}

}  // namespace sentinel::test
