/* A shared library that is not a runbook plugin: no entry point. */
__attribute__((visibility("default"))) int not_a_plugin(void) {
  return 42;
}
