/* wardpulse — the operator's command. Reads the aggregator's database read-only. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"status", cli_status, "the district at a glance: one line per ward"},
    {"alerts", cli_alerts, "alerts firing (and recently resolved), with their summaries"},
    {"export", cli_export, "print stored values, rejections or every message received"},
    {"report", cli_report, "the weekly district summary (html or markdown)"},
    {"validate", cli_validate, "check a JSON file against one of wardpulse's schemas"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: wardpulse COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'wardpulse COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("wardpulse %s\n", WARDPULSE_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "wardpulse: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
