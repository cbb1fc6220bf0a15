/* Prints the network devices as rails/ sees them, one per line. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include "mrail/rails_devices.h"

int main(void)
{
    mrail_netdev_t *devs;
    size_t n;
    mrail_reason_t why;
    if (mrail_netdevs_list(&devs, &n, &why) != MRAIL_SUCCESS) {
        fprintf(stderr, "netdevs_probe: %s\n", why.text);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        char addr[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &devs[i].addr, addr, sizeof(addr));
        printf("dev=%s addr=%s loopback=%d speed=%d numa=%d\n", devs[i].name, addr,
               devs[i].loopback, devs[i].speed_mbps, devs[i].numa_node);
    }
    free(devs);
    return 0;
}
