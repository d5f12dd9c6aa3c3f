#include "agent/cli.h"
#include "base/memory.h"

int main(int argc, char** argv) {
  tsync::KeepLargeBuffersOutOfHeap();
  return tsync::agent::RunCli(argc, argv);
}
