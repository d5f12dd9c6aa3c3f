#include "agent/cli.h"

int main(int argc, char** argv) { return tsync::agent::RunCli(argc, argv); }
