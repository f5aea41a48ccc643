// The deployment files in deploy/ hold the properties docs/operations.md promises. Where Debian has a
// linter it runs (systemd-analyze verify for the unit, yamllint for the YAML); Debian has no
// Dockerfile linter (hadolint is not packaged), so the Dockerfile test checks its required
// properties directly and that the runtime stage installs a package for every shared library
// the built binary links.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;
const fs::path source_dir = FLARE_SOURCE_DIR;
const fs::path deploy_dir = source_dir / "deploy";

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct command_result {
  int status = -1;
  std::string output;  // stdout and stderr
};

command_result run(const std::string& command) {
  command_result r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  r.status = pclose(pipe);
  return r;
}

bool have(const std::string& program) { return run("command -v " + program).status == 0; }

// ---- Dockerfile: its instructions, continuation lines joined ----
struct instruction {
  std::string keyword;  // upper case
  std::string args;
};

std::vector<instruction> dockerfile() {
  std::vector<instruction> out;
  std::istringstream in(read_file(deploy_dir / "Dockerfile"));
  std::string line, joined;
  while (std::getline(in, line)) {
    if (joined.empty() && (line.empty() || line[0] == '#')) continue;
    if (!line.empty() && line.back() == '\\') {
      joined += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    joined += line;
    const auto space = joined.find(' ');
    out.push_back({joined.substr(0, space), space == std::string::npos ? "" : joined.substr(space + 1)});
    joined.clear();
  }
  return out;
}

// The stages, each the instructions after its FROM.
std::vector<std::vector<instruction>> stages() {
  std::vector<std::vector<instruction>> out;
  for (auto& i : dockerfile()) {
    if (i.keyword == "FROM") out.emplace_back();
    if (!out.empty()) out.back().push_back(i);
  }
  return out;
}

std::set<std::string> words(const std::string& s) {
  std::set<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.insert(w);
  return out;
}

}  // namespace

TEST(dockerfile, is_multi_stage_on_debian_12) {
  const auto s = stages();
  ASSERT_GE(s.size(), 2u);
  EXPECT_TRUE(std::regex_search(s.front().front().args, std::regex(R"(^debian:(12|bookworm)\b)")))
      << s.front().front().args;
  EXPECT_TRUE(std::regex_search(s.back().front().args, std::regex(R"(^debian:(12|bookworm)-slim\b)")))
      << "the runtime stage is debian:12-slim: " << s.back().front().args;
}

TEST(dockerfile, build_stage_builds_without_tests_and_benchmarks) {
  const auto all = stages();  // range-for over stages().front() would dangle
  std::string runs;
  for (const auto& i : all.front())
    if (i.keyword == "RUN") runs += i.args + "\n";
  EXPECT_NE(runs.find("-DFLARE_BUILD_TESTS=OFF"), std::string::npos);
  EXPECT_NE(runs.find("-DFLARE_BUILD_BENCH=OFF"), std::string::npos);
  // Same packages as scripts/setup-debian.sh, minus the test and developer tools.
  const auto setup = read_file(source_dir / "scripts/setup-debian.sh");
  const std::set<std::string> not_for_images = {
      "ccache",  "libgtest-dev",    "libgmock-dev", "libbenchmark-dev", "sqlite3",
      "openssl", "libyaml-cpp-dev", "yamllint",     "postgresql-15"};  // the test cluster's server
  const std::set<std::string> lint_tools = {
      "clang-format", "clang-tidy",         "python3",  // scripts/lint.sh
      "clang",        "libclang-rt-14-dev", "llvm"};    // scripts/fuzz.sh
  ASSERT_NE(setup.find("packages=("), std::string::npos);
  // The package list without its comments: a comment may hold any word, or a ')'.
  std::string list;
  {
    std::istringstream lines(setup.substr(setup.find("packages=(") + 10));
    for (std::string line; std::getline(lines, line);) {
      line = line.substr(0, line.find('#'));
      const auto close = line.find(')');
      list += line.substr(0, close) + "\n";
      if (close != std::string::npos) break;
    }
  }
  const auto installed = words(runs);
  for (const auto& p : words(list)) {
    if (not_for_images.count(p) || lint_tools.count(p)) continue;
    EXPECT_TRUE(installed.count(p)) << "the build stage does not install " << p
                                    << " (scripts/setup-debian.sh)";
  }
}

TEST(dockerfile, runs_as_non_root_with_a_data_volume_and_no_remote_add) {
  const auto runtime = stages().back();
  std::string user, volume;
  bool copies_binary = false;
  for (const auto& i : runtime) {
    if (i.keyword == "USER") user = i.args;
    if (i.keyword == "VOLUME") volume = i.args;
    if (i.keyword == "COPY" && i.args.find("--from=build") != std::string::npos &&
        i.args.find("/usr/local/bin/flare") != std::string::npos)
      copies_binary = true;
  }
  ASSERT_FALSE(user.empty()) << "no USER in the runtime stage";
  EXPECT_NE(user.substr(0, user.find(':')), "0");
  EXPECT_NE(user.substr(0, user.find(':')), "root");
  EXPECT_EQ(volume, "/var/lib/flare");
  EXPECT_TRUE(copies_binary);
  for (const auto& i : dockerfile()) {
    EXPECT_NE(i.keyword, "ADD") << "use COPY; ADD fetches URLs and unpacks archives: " << i.args;
    if (i.keyword == "RUN") {
      EXPECT_EQ(i.args.find("curl "), std::string::npos) << "nothing is downloaded outside apt";
      EXPECT_EQ(i.args.find("wget "), std::string::npos);
    }
  }
  bool store_on_volume = false;
  for (const auto& i : runtime)
    if (i.keyword == "ENV" && i.args.find("FLARE_STORE_PATH=/var/lib/flare/") != std::string::npos)
      store_on_volume = true;
  EXPECT_TRUE(store_on_volume);
}

// Every shared library the built binary links comes from a package the runtime stage installs
// (or from debian:12-slim itself). Fails when someone adds a dependency and forgets the image.
TEST(dockerfile, runtime_stage_installs_every_library_the_binary_links) {
  if (!have("ldd") || !have("dpkg-query")) GTEST_SKIP() << "ldd or dpkg-query missing";
  const auto ldd = run(std::string("ldd ") + FLARE_BINARY);
  ASSERT_EQ(ldd.status, 0) << ldd.output;
  const auto all = stages();
  std::string runtime_runs;
  for (const auto& i : all.back())
    if (i.keyword == "RUN") runtime_runs += i.args + " ";
  auto installed = words(runtime_runs);
  // Libraries pulled in by what the stage installs come with it (libpq5 brings Kerberos, LDAP and
  // GnuTLS): apt installs a package's dependencies, so those count as installed too.
  if (have("apt-cache")) {
    std::string names;
    for (const auto& w : installed)
      if (w.rfind("lib", 0) == 0) names += " " + w;
    const auto deps =
        run("apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks "
            "--no-replaces --no-enhances" +
            names + " 2>/dev/null");
    std::istringstream lines(deps.output);
    for (std::string line; std::getline(lines, line);) {
      const auto colon = line.find("Depends: ");
      auto name = colon == std::string::npos ? line : line.substr(colon + 9);
      name.erase(0, name.find_first_not_of(" <"));
      name = name.substr(0, name.find_first_of(":> "));
      if (!name.empty()) installed.insert(name);
    }
  }
  // In debian:12-slim already (essential or required).
  const std::set<std::string> in_base = {"libc6", "libstdc++6", "libgcc-s1", "zlib1g"};
  // The sanitizer runtimes are linked only by scripts/test-sanitizers.sh's build, never shipped.
  const std::set<std::string> sanitizer_runtimes = {"libasan8", "libubsan1", "liblsan0", "libtsan2"};
  const std::regex lib_path(R"(=> (/\S+))");
  for (std::sregex_iterator it(ldd.output.begin(), ldd.output.end(), lib_path), end; it != end; ++it) {
    const auto path = fs::canonical((*it)[1].str()).string();
    auto owner = run("dpkg-query -S " + path);
    if (owner.status != 0) {
      // usrmerge: dpkg may know the file under /lib rather than /usr/lib.
      auto alt = path.rfind("/usr/", 0) == 0 ? path.substr(4) : "/usr" + path;
      owner = run("dpkg-query -S " + alt);
    }
    ASSERT_EQ(owner.status, 0) << "no package owns " << path;
    auto package = owner.output.substr(0, owner.output.find(':'));
    if (in_base.count(package) || sanitizer_runtimes.count(package)) continue;
    EXPECT_TRUE(installed.count(package))
        << "flare links " << path << " from " << package << ", which the runtime stage does not install";
  }
}

TEST(systemd_unit, passes_systemd_analyze_verify) {
  if (!have("systemd-analyze")) GTEST_SKIP() << "systemd-analyze is not installed";
  // verify insists ExecStart's binary exists: point it at the one just built.
  auto unit = read_file(deploy_dir / "flare.service");
  unit = std::regex_replace(unit, std::regex("/usr/local/bin/flare"), FLARE_BINARY);
  const auto dir = fs::temp_directory_path() / ("flare-unit-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "flare.service") << unit;
  const auto r = run("systemd-analyze verify " + (dir / "flare.service").string());
  fs::remove_all(dir);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "") << "systemd-analyze verify warned:\n" << r.output;
}

TEST(systemd_unit, is_hardened_with_dynamic_user_state_directory_and_restart) {
  const auto unit = read_file(deploy_dir / "flare.service");
  for (const char* line :
       {"DynamicUser=yes", "StateDirectory=flare", "ProtectSystem=strict", "NoNewPrivileges=yes",
        "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes", "CapabilityBoundingSet=\n",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "SystemCallFilter=@system-service",
        "MemoryDenyWriteExecute=yes", "Restart=on-failure", "RestartPreventExitStatus=3 4",
        "EnvironmentFile=/etc/flare/tokens.env", "FLARE_STORE_PATH=/var/lib/flare/"}) {
    EXPECT_NE(unit.find(line), std::string::npos) << "missing " << line;
  }
}

namespace {

std::vector<YAML::Node> k8s_documents(const std::string& file) {
  return YAML::LoadAllFromFile((deploy_dir / "k8s" / file).string());
}

YAML::Node deployment() {
  auto docs = k8s_documents("deployment.yaml");
  for (auto& d : docs)
    if (d["kind"].as<std::string>() == "Deployment") return d;
  return {};
}

}  // namespace

TEST(kubernetes, every_document_parses_and_names_its_kind) {
  int documents = 0;
  for (const auto& entry : fs::directory_iterator(deploy_dir / "k8s")) {
    if (entry.path().extension() != ".yaml") continue;
    for (const auto& d : YAML::LoadAllFromFile(entry.path().string())) {
      ++documents;
      EXPECT_TRUE(d["apiVersion"]) << entry.path();
      EXPECT_TRUE(d["kind"]) << entry.path();
    }
  }
  EXPECT_GE(documents, 4);
}

TEST(kubernetes, three_replicas_rolling_with_a_disruption_budget_probes_resources_secrets_and_config) {
  const auto d = deployment();
  ASSERT_TRUE(d) << "no Deployment in deploy/k8s/deployment.yaml";
  // Issue 10: several replicas on PostgreSQL, replaced one at a time, never below two.
  EXPECT_EQ(d["spec"]["replicas"].as<int>(), 3);
  EXPECT_EQ(d["spec"]["strategy"]["type"].as<std::string>(), "RollingUpdate");
  EXPECT_EQ(d["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"].as<int>(), 1);
  const auto pdb = k8s_documents("pdb.yaml").at(0);
  EXPECT_EQ(pdb["kind"].as<std::string>(), "PodDisruptionBudget");
  EXPECT_EQ(pdb["spec"]["minAvailable"].as<int>(), 2);
  EXPECT_EQ(pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"].as<std::string>(),
            d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"].as<std::string>());
  const auto pod = d["spec"]["template"]["spec"];
  ASSERT_EQ(pod["containers"].size(), 1u);
  const auto c = pod["containers"][0];
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"].as<std::string>(), "/healthz");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"].as<std::string>(), "/readyz");
  for (const char* kind : {"requests", "limits"})
    for (const char* what : {"cpu", "memory"})
      EXPECT_TRUE(c["resources"][kind][what]) << "resources." << kind << "." << what;
  EXPECT_TRUE(c["securityContext"]["readOnlyRootFilesystem"].as<bool>());
  EXPECT_FALSE(c["securityContext"]["allowPrivilegeEscalation"].as<bool>());
  EXPECT_TRUE(pod["securityContext"]["runAsNonRoot"].as<bool>());

  std::set<std::string> secret_keys;
  for (const auto& e : c["env"])
    if (e["valueFrom"]["secretKeyRef"]) secret_keys.insert(e["name"].as<std::string>());
  EXPECT_EQ(secret_keys, (std::set<std::string>{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "PGPASSWORD"}));

  std::string config_map;
  for (const auto& v : pod["volumes"]) {
    EXPECT_FALSE(v["persistentVolumeClaim"]) << "the replicas share PostgreSQL, not a volume";
    if (v["configMap"]) config_map = v["configMap"]["name"].as<std::string>();
  }
  const auto cm = k8s_documents("configmap.yaml").at(0);
  EXPECT_EQ(config_map, cm["metadata"]["name"].as<std::string>());
  // The configuration points the store at PostgreSQL (no password in the URL) and the probes at
  // the pod's interface.
  const auto toml = cm["data"]["flare.toml"].as<std::string>();
  EXPECT_NE(toml.find("url = \"postgresql://flare@"), std::string::npos);
  EXPECT_EQ(toml.find("PGPASSWORD="), std::string::npos);
  EXPECT_NE(toml.find("address = \"0.0.0.0\""), std::string::npos);
}

// Issue 13: the health endpoint listens on all interfaces in a pod; only the scraper may reach
// it. One namespace-and-pod selector (both in one `from` entry: an AND), only the health port.
TEST(kubernetes, a_network_policy_admits_only_the_scraper_to_the_metrics_port) {
  const auto policy = k8s_documents("networkpolicy.yaml").at(0);
  EXPECT_EQ(policy["kind"].as<std::string>(), "NetworkPolicy");
  EXPECT_EQ(policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"].as<std::string>(),
            "flare");
  const auto types = policy["spec"]["policyTypes"];
  ASSERT_TRUE(types && types.IsSequence());
  EXPECT_EQ(types[0].as<std::string>(), "Ingress");
  const auto ingress = policy["spec"]["ingress"];
  ASSERT_TRUE(ingress.IsSequence());
  ASSERT_EQ(ingress.size(), 1u) << "one rule: the scraper";
  const auto from = ingress[0]["from"];
  ASSERT_TRUE(from.IsSequence());
  ASSERT_EQ(from.size(), 1u) << "a second entry would be OR'ed in";
  EXPECT_TRUE(from[0]["namespaceSelector"]["matchLabels"].IsMap())
      << "no namespaceSelector: {} (every namespace)";
  EXPECT_TRUE(from[0]["podSelector"]["matchLabels"].IsMap());
  EXPECT_FALSE(from[0]["ipBlock"]);
  const auto ports = ingress[0]["ports"];
  ASSERT_TRUE(ports.IsSequence());
  ASSERT_EQ(ports.size(), 1u);
  // The same port the container exposes as "health".
  const auto deployment = k8s_documents("deployment.yaml").at(0);
  const auto container_port =
      deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"];
  EXPECT_EQ(ports[0]["port"].as<int>(), container_port.as<int>());
  EXPECT_EQ(ports[0]["protocol"].as<std::string>(), "TCP");
  // Applied with the rest.
  const auto kustomization = k8s_documents("kustomization.yaml").at(0);
  bool listed = false;
  for (const auto& r : kustomization["resources"])
    listed = listed || r.as<std::string>() == "networkpolicy.yaml";
  EXPECT_TRUE(listed) << "networkpolicy.yaml is not in kustomization.yaml";
}

TEST(yaml, deploy_files_pass_yamllint) {
  if (!have("yamllint")) GTEST_SKIP() << "yamllint is not installed (scripts/setup-debian.sh installs it)";
  const auto r = run("yamllint -s -c " + (deploy_dir / ".yamllint").string() + " " + deploy_dir.string());
  EXPECT_EQ(r.status, 0) << r.output;
}
