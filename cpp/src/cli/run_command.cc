// `sluice run JOB.py [--key value ...]`: starts a Python job. The tool replaces itself
// with the interpreter (execv), so the job's exit code, signals and terminal are the
// tool's own; the job reads its arguments with sluice.job_args() from SLUICE_JOB_ARGS.

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <unistd.h>

#include "cli/command.h"
#include "cli/engine_options.h"
#include <sys/stat.h>

namespace sluice::cli {

namespace {

constexpr char kJobArgsVariable[] = "SLUICE_JOB_ARGS";
constexpr char kPythonVariable[] = "SLUICE_PYTHON";

ArgumentParser MakeRunParser() {
  ArgumentParser parser("sluice run",
                        "Runs a Python job with the interpreter of the environment sluice is "
                        "installed in. The job reads its --key value arguments with "
                        "sluice.job_args().");
  parser.StopAtFirstPositional()
      .AddPositional({.name = "JOB", .help = "The job's Python file."})
      .AddPositional({.name = "ARG",
                      .help = "Arguments for the job, passed on untouched (options of 'sluice "
                              "run' itself go before JOB).",
                      .min_count = 0,
                      .max_count = -1});
  AddEngineOptions(parser);
  parser.SetEpilog(
      "The interpreter is $SLUICE_PYTHON if set, else the python3 (or python) next to the\n"
      "sluice executable, else python3 on PATH. --memory-limit and --threads reach the job\n"
      "as SLUICE_MEMORY_LIMIT and SLUICE_NUM_THREADS.\n"
      "\n"
      "Examples:\n"
      "  sluice run etl.py --input data/ --output out/\n"
      "  sluice run --threads 4 etl.py --day 2024-01-31\n");
  return parser;
}

/// `values` as a JSON array of strings. Bytes from 0x80 up pass through unchanged: argv
/// holds UTF-8, and Python decodes the variable the same way it decodes argv.
std::string JsonStringArray(const std::vector<std::string>& values) {
  std::string json = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) json += ", ";
    json += '"';
    for (unsigned char c : values[i]) {
      switch (c) {
        case '"':
          json += "\\\"";
          break;
        case '\\':
          json += "\\\\";
          break;
        case '\n':
          json += "\\n";
          break;
        case '\r':
          json += "\\r";
          break;
        case '\t':
          json += "\\t";
          break;
        case '\b':
          json += "\\b";
          break;
        case '\f':
          json += "\\f";
          break;
        default:
          if (c < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
            json += escaped;
          } else {
            json += static_cast<char>(c);
          }
      }
    }
    json += '"';
  }
  return json + "]";
}

bool IsExecutableFile(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && access(path.c_str(), X_OK) == 0;
}

/// The directory of the running sluice executable (symlinks resolved), or "" if unknown.
std::string ExecutableDirectory() {
  char buffer[PATH_MAX];
  ssize_t length = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (length <= 0) return "";
  std::string path(buffer, static_cast<size_t>(length));
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

/// The interpreter to start. The venv's python is taken by its path in the venv, not
/// resolved further: Python finds its venv (and so the sluice package) from that path.
std::string FindPythonInterpreter() {
  if (const char* configured = std::getenv(kPythonVariable); configured && *configured) {
    return configured;
  }
  const std::string directory = ExecutableDirectory();
  if (!directory.empty()) {
    for (const char* name : {"python3", "python"}) {
      std::string candidate = directory + "/" + name;
      if (IsExecutableFile(candidate)) return candidate;
    }
  }
  return "python3";
}

arrow::Status CheckJobFile(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    return arrow::Status::IOError("cannot open job file ", path, ": ", std::strerror(errno));
  }
  if (!S_ISREG(info.st_mode)) {
    return arrow::Status::IOError("job file ", path, " is not a regular file");
  }
  return arrow::Status::OK();
}

arrow::Result<int> RunJob(const ParsedArguments& args) {
  const std::string& job = args.positionals().front();
  ARROW_RETURN_NOT_OK(CheckJobFile(job));
  ARROW_RETURN_NOT_OK(ExportEngineOptionsToEnvironment(args));
  const std::vector<std::string>& job_args = args.passthrough();
  if (setenv(kJobArgsVariable, JsonStringArray(job_args).c_str(), /*overwrite=*/1) != 0) {
    return arrow::Status::IOError("cannot set ", kJobArgsVariable, ": ", std::strerror(errno));
  }

  const std::string python = FindPythonInterpreter();
  std::vector<std::string> argv_strings = {python, job};
  argv_strings.insert(argv_strings.end(), job_args.begin(), job_args.end());
  std::vector<char*> argv;
  for (auto& value : argv_strings) argv.push_back(value.data());
  argv.push_back(nullptr);

  std::cout.flush();
  std::cerr.flush();
  // A bare name ("python3", or SLUICE_PYTHON=python3.12) is looked up on PATH.
  if (python.find('/') == std::string::npos) {
    execvp(python.c_str(), argv.data());
  } else {
    execv(python.c_str(), argv.data());
  }
  return arrow::Status::IOError("cannot start the Python interpreter ", python, ": ",
                                std::strerror(errno),
                                " (set SLUICE_PYTHON to the interpreter to use)");
}

}  // namespace

Command MakeRunCommand() { return Command{"run", MakeRunParser, RunJob}; }

}  // namespace sluice::cli
