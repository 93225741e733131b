/* saeg devices: every backend (available or why not) and every device it offers. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/backend.h"

static void print_help(FILE *out) {
    fprintf(out, "usage: saeg devices [--device SPEC]\n"
                 "\n"
                 "Lists the compute backends (cpu, cuda, vulkan, opencl), whether each is available and\n"
                 "why not, and every device with its type and memory.\n"
                 "\n"
                 "  --device SPEC   also show which device SPEC selects: auto (cuda, then vulkan, then\n"
                 "                  opencl, then cpu), cpu, cuda[:N], vulkan[:N], opencl[:N]\n"
                 "  -h, --help      this help\n");
}

static void print_memory(size_t bytes) {
    if (bytes == 0)
        printf("%10s", "-");
    else
        printf("%7.1f GiB", (double)bytes / (1024.0 * 1024.0 * 1024.0));
}

int saeg_cmd_devices(int argc, char **argv) {
    static const struct option opts[] = {
        {"device", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *spec = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': spec = optarg; break;
        case 'h': print_help(stdout); return 0;
        default: print_help(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "saeg devices: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }

    sg_backends_load();
    printf("backends:\n");
    for (int i = 0; i < sg_backend_status_count(); i++) {
        const struct sg_backend_status *b = sg_backend_status_get(i);
        if (b->reg)
            printf("  %-8s available%s%s\n", b->name, b->path[0] ? "    " : "    (built in)", b->path);
        else
            printf("  %-8s unavailable: %s\n", b->name, b->reason);
    }
    printf("devices:\n");
    printf("  %-10s %-16s %-10s %-10s %s\n", "name", "type", "free", "total", "description");
    for (int r = 0; r < sg_backend_reg_count(); r++) {
        struct sg_backend_reg *reg = sg_backend_reg_get(r);
        for (int d = 0; d < sg_backend_reg_device_count(reg); d++) {
            struct sg_device *dev = sg_backend_reg_device(reg, d);
            size_t free_mem, total_mem;
            sg_device_memory(dev, &free_mem, &total_mem);
            printf("  %-10s %-16s ", sg_device_name(dev), sg_device_type_name(sg_device_type(dev)));
            print_memory(free_mem);
            printf(" ");
            print_memory(total_mem);
            printf(" %s\n", sg_device_description(dev));
        }
    }
    if (spec) {
        struct sg_device *dev;
        if (sg_device_select(spec, &dev) != SG_OK) {
            fprintf(stderr, "saeg devices: %s\n", sg_last_error());
            return 1;
        }
        printf("--device %s selects %s (%s)\n", spec, sg_device_name(dev), sg_device_description(dev));
    }
    return 0;
}
