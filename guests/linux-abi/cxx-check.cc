/*
 * cxx-check: a static libstdc++ program for the linux-abi kernel (src/machine/linux-abi.test.ts
 * builds it with `g++ -O2 -static -no-pie`, never committed): std::sort, std::to_chars/
 * from_chars (shortest round trip), std::map, exceptions thrown through up to 28 frames (the
 * .eh_frame unwinder), std::regex, iostream formatting, setjmp/longjmp (glibc's pointer
 * mangling through FS:0x30) and a long double product. Its stdout must be the same natively
 * and as a guest. libstdc++'s static initialisation calls futex(FUTEX_WAKE_PRIVATE).
 */
#include <algorithm>
#include <charconv>
#include <cmath>
#include <csetjmp>
#include <iomanip>
#include <iostream>
#include <map>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

static std::jmp_buf jb;
[[noreturn]] static void jump(int v) { std::longjmp(jb, v); }
struct E : std::runtime_error {
  int v;
  explicit E(int x) : std::runtime_error("E" + std::to_string(x)), v(x) {}
};
static int thrower(int d) {
  if (d == 0) throw E(42);
  return thrower(d - 1) + 1;
}

int main() {
  std::mt19937_64 g(12345);
  std::vector<double> v(1500);
  std::uniform_real_distribution<double> ud(-1e3, 1e3);
  for (auto &x : v) x = ud(g) * std::exp(ud(g) / 100);
  std::sort(v.begin(), v.end());
  std::cout << std::setprecision(17) << v.front() << ' ' << v[750] << ' ' << v.back() << '\n';
  char buf[64];
  int bad = 0;
  for (size_t i = 0; i < v.size(); i += 3) {
    auto r = std::to_chars(buf, buf + sizeof buf, v[i]);
    if (i % 150 == 0) std::cout << std::string(buf, r.ptr) << '\n';
    double y = 0;
    std::from_chars(buf, r.ptr, y);
    if (y != v[i]) bad++;
  }
  std::cout << "to_chars/from_chars round trips failed: " << bad << '\n';
  std::map<std::string, int> m;
  for (int i = 0; i < 600; i++) m["k" + std::to_string(g() % 1000)] += i;
  std::cout << m.size() << ' ' << m.begin()->first << ' ' << m.rbegin()->first << ' ' << m.rbegin()->second << '\n';
  int caught = 0;
  for (int i = 0; i < 4; i++) {
    try {
      thrower(i * 9);
    } catch (const E &e) {
      caught += e.v;
    }
  }
  std::cout << "caught " << caught << '\n';
  try {
    std::vector<int> w;
    (void)w.at(5);
  } catch (const std::out_of_range &) {
    std::cout << "out_of_range\n";
  }
  std::regex re("([a-z]+)([0-9]+)@(\\w+)\\.com");
  std::string text;
  for (int i = 0; i < 8; i++) text += "user" + std::to_string(i) + "@host" + std::to_string(i % 7) + ".com ";
  int n = 0;
  for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it) n += std::stoi((*it)[2]);
  std::cout << "regex sum " << n << '\n';
  std::ostringstream os;
  os << std::fixed << std::setprecision(3) << M_PI << ' ' << std::scientific << 1e300 << ' ' << std::hexfloat << 0.1;
  std::cout << os.str() << '\n';
  int r = setjmp(jb);
  if (r == 0) jump(7);
  std::cout << "longjmp " << r << '\n';
  long double ld = 1;
  for (int i = 1; i < 30; i++) ld *= i;
  std::cout << std::setprecision(25) << std::defaultfloat << ld << '\n';
  return 0;
}
