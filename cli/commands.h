/* Subcommands of `saeg`. Each parses its own options (argv[0] is the subcommand name), prints
 * its own --help, and returns the process exit status: 0 on success, 1 on a failure it has
 * explained on stderr, 2 on a usage error. */
#ifndef SAEG_CLI_COMMANDS_H
#define SAEG_CLI_COMMANDS_H

int saeg_cmd_devices(int argc, char **argv);
int saeg_cmd_validate(int argc, char **argv);
int saeg_cmd_dashboard(int argc, char **argv);
int saeg_cmd_embed(int argc, char **argv);
int saeg_cmd_fetch_model(int argc, char **argv);
int saeg_cmd_bench(int argc, char **argv);
int saeg_bench_model(int argc, char **argv); /* saeg bench model */
int saeg_cmd_train(int argc, char **argv);
int saeg_cmd_eval(int argc, char **argv);
int saeg_bench_sae(int argc, char **argv); /* saeg bench sae */
int saeg_cmd_extract(int argc, char **argv);
int saeg_cmd_pipeline(int argc, char **argv);

#endif
