// Temporary entry point while agent/ is being written this session.
int main() { return 0; }
