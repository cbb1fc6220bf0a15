/* btl/verbs without an HCA: port rates, GIDs and sysfs, the wire formats,
 * the registration cache, and the memory-release hooks it relies on.
 * (The plugin's decline path is in tests/mca/test_mca_plugins.c.) */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "btl_verbs.h"
#include "mrail/mem_release.h"
#include "mrail/mrail.h"
#include "mrail/rails_devices.h"
#include "run_util.h"

#define MRAIL_INFO MRAIL_TEST_BIN_DIR "/mrail_info"

/* ---- ports ---------------------------------------------------------- */

Test(verbs_port, bandwidth_is_lanes_times_the_lane_data_rate)
{
    /* MB/s = lanes x data Gbit/s per lane x 1000 / 8 */
    cr_expect_eq(btl_verbs_port_bandwidth(1, 1), 1 * 2 * 1000 / 8);      /* 1x SDR */
    cr_expect_eq(btl_verbs_port_bandwidth(2, 4), 4 * 8 * 1000 / 8);      /* 4x QDR */
    cr_expect_eq(btl_verbs_port_bandwidth(2, 32), 4 * 25 * 1000 / 8);    /* 4x EDR */
    cr_expect_eq(btl_verbs_port_bandwidth(2, 64), 4 * 50 * 1000 / 8);    /* 4x HDR */
    cr_expect_eq(btl_verbs_port_bandwidth(16, 128), 2 * 100 * 1000 / 8); /* 2x NDR */
    cr_expect_eq(btl_verbs_port_bandwidth(8, 2), 12 * 4 * 1000 / 8);     /* 12x DDR */
    cr_expect_eq(btl_verbs_port_bandwidth(2, 16), 6820u);                /* 4x FDR, 13.64 */
    cr_expect_eq(btl_verbs_port_bandwidth(3, 32), 0u, "width code 3 does not exist");
    cr_expect_eq(btl_verbs_port_bandwidth(2, 3), 0u, "speed code 3 does not exist");
}

Test(verbs_port, gids_parse_and_print_as_sysfs_does)
{
    uint8_t gid[16];
    const char *sysfs = "fe80:0000:0000:0000:0202:c9ff:fe00:0001\n";
    cr_assert_eq(btl_verbs_gid_parse(sysfs, gid), MRAIL_SUCCESS);
    const uint8_t want[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x02, 0xc9, 0xff, 0xfe, 0, 0, 1};
    cr_expect_arr_eq(gid, want, 16);
    char text[40];
    btl_verbs_gid_format(gid, text);
    cr_expect_str_eq(text, "fe80:0000:0000:0000:0202:c9ff:fe00:0001");
    cr_assert_eq(btl_verbs_gid_parse("::ffff:10.1.2.3", gid), MRAIL_SUCCESS);
    btl_verbs_gid_format(gid, text);
    cr_expect_str_eq(text, "0000:0000:0000:0000:0000:ffff:0a01:0203");
    cr_expect_eq(btl_verbs_gid_parse("", gid), MRAIL_ERR_BAD_PARAM);
    cr_expect_eq(btl_verbs_gid_parse("fe80:zz::1", gid), MRAIL_ERR_BAD_PARAM);
    cr_expect_eq(btl_verbs_gid_parse("1:2:3:4:5:6:7:8:9", gid), MRAIL_ERR_BAD_PARAM);
}

static void write_file(const char *dir, const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    for (char *s = strchr(path + strlen(dir) + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(path, 0755);
        *s = '/';
    }
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static void remove_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

/* A RoCE port's table: v1 and v2 entries, link-local and IPv4-mapped
 * ones; librdmacm needs the v2 entry with an IPv4 address. */
Test(verbs_port, roce_picks_the_v2_gid_with_an_ipv4_address)
{
    char dir[] = "/tmp/mrail-verbs-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    write_file(dir, "gid_attrs/types/0", "IB/RoCE v1\n");
    write_file(dir, "gids/0", "fe80:0000:0000:0000:5054:00ff:fe12:3456\n");
    write_file(dir, "gid_attrs/types/1", "RoCE v2\n");
    write_file(dir, "gids/1", "fe80:0000:0000:0000:5054:00ff:fe12:3456\n");
    write_file(dir, "gid_attrs/types/2", "IB/RoCE v1\n");
    write_file(dir, "gids/2", "0000:0000:0000:0000:0000:ffff:0a00:0001\n");
    write_file(dir, "gid_attrs/types/3", "RoCE v2\n");
    write_file(dir, "gids/3", "0000:0000:0000:0000:0000:ffff:0a00:0001\n");
    uint8_t gid[16];
    char why[256] = "";
    cr_expect_eq(btl_verbs_roce_v2_ipv4_gid(dir, gid, why, sizeof(why)), 3, "%s", why);
    cr_expect_eq(gid[12], 10);
    cr_expect_eq(gid[15], 1);

    /* Only link-local v2 entries: the reason says what is missing. */
    write_file(dir, "gid_attrs/types/3", "IB/RoCE v1\n");
    cr_expect_eq(btl_verbs_roce_v2_ipv4_gid(dir, gid, why, sizeof(why)), -1);
    cr_expect(strstr(why, "1 RoCE v2 GID(s) hold no IPv4 address") != NULL, "%s", why);
    remove_tree(dir);
}

Test(verbs_port, numa_node_comes_from_the_pci_device)
{
    char dir[] = "/tmp/mrail-verbs-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    cr_expect_eq(btl_verbs_numa_node(dir), -1, "no file: unknown");
    write_file(dir, "device/numa_node", "1\n");
    cr_expect_eq(btl_verbs_numa_node(dir), 1);
    write_file(dir, "device/numa_node", "-1\n");
    cr_expect_eq(btl_verbs_numa_node(dir), -1);
    remove_tree(dir);
}

/* ---- wire formats ------------------------------------------------------ */

static btl_verbs_entry_t sample_entry(void)
{
    btl_verbs_entry_t e;
    memset(&e, 0, sizeof(e));
    snprintf(e.dev, sizeof(e.dev), "mlx5_1");
    e.port = 1;
    e.link = BTL_VERBS_LINK_IB;
    e.cm_port = 18515;
    const uint8_t ip[4] = {192, 168, 7, 9};
    memcpy(e.ip, ip, 4);
    for (int i = 0; i < 16; i++) {
        e.gid[i] = (uint8_t)(0xa0 + i);
    }
    e.subnet = 0xfe80000000000000ull;
    return e;
}

Test(verbs_wire, a_modex_entry_survives_the_wire_and_junk_is_refused)
{
    btl_verbs_entry_t e = sample_entry(), back;
    uint8_t wire[BTL_VERBS_ENTRY_WIRE];
    btl_verbs_entry_pack(&e, wire);
    cr_assert_eq(btl_verbs_entry_unpack(wire, &back), MRAIL_SUCCESS);
    cr_expect_str_eq(back.dev, "mlx5_1");
    cr_expect_eq(back.port, 1);
    cr_expect_eq(back.link, BTL_VERBS_LINK_IB);
    cr_expect_eq(back.cm_port, 18515);
    cr_expect_arr_eq(back.ip, e.ip, 4);
    cr_expect_arr_eq(back.gid, e.gid, 16);
    cr_expect_eq(back.subnet, e.subnet);
    /* little-endian on the wire, whatever the host */
    cr_expect_eq(wire[6], 18515 & 0xff);
    cr_expect_eq(wire[7], 18515 >> 8);

    /* each field that must hold a value, broken in turn */
    const size_t at[] = {0, 2, 3, 4, 6};
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        uint8_t bad[BTL_VERBS_ENTRY_WIRE];
        memcpy(bad, wire, sizeof(bad));
        bad[at[i]] = at[i] == 4 ? 7 : 0;
        if (at[i] == 6) {
            bad[7] = 0;
        }
        cr_expect_eq(btl_verbs_entry_unpack(bad, &back), MRAIL_ERR_BAD_PARAM, "byte %zu", at[i]);
    }
    uint8_t noname[BTL_VERBS_ENTRY_WIRE];
    memcpy(noname, wire, sizeof(noname));
    memset(noname + 36, 'x', 28); /* no terminating NUL */
    cr_expect_eq(btl_verbs_entry_unpack(noname, &back), MRAIL_ERR_BAD_PARAM);
}

Test(verbs_wire, ports_reach_peers_of_their_link_and_subnet)
{
    btl_verbs_entry_t a = sample_entry(), b = sample_entry();
    cr_expect(btl_verbs_entry_reaches(&a, &b));
    b.subnet = 0xfe80000000000001ull;
    cr_expect_not(btl_verbs_entry_reaches(&a, &b), "another IB subnet");
    a.link = b.link = BTL_VERBS_LINK_ETH;
    cr_expect(btl_verbs_entry_reaches(&a, &b), "RoCE v2 is routed by IP");
    b.link = BTL_VERBS_LINK_IB;
    cr_expect_not(btl_verbs_entry_reaches(&a, &b), "RoCE and InfiniBand");
}

Test(verbs_wire, only_a_hello_of_this_job_is_let_in)
{
    const uint64_t secret = 0x1234abcd5678ef90ull;
    btl_verbs_hello_t h = {.rank = 5, .secret = secret}, got;
    uint8_t wire[64];
    memset(wire, 0, sizeof(wire));
    btl_verbs_hello_pack(&h, wire);
    cr_expect_eq(btl_verbs_hello_check(wire, BTL_VERBS_HELLO_WIRE, secret, 8, &got), MRAIL_SUCCESS);
    cr_expect_eq(got.rank, 5u);
    cr_expect_eq(btl_verbs_hello_check(wire, sizeof(wire), secret, 8, &got), MRAIL_SUCCESS,
                 "private data padded by the transport");
    cr_expect_eq(btl_verbs_hello_check(wire, BTL_VERBS_HELLO_WIRE, secret + 1, 8, &got),
                 MRAIL_ERR_BAD_PARAM, "another job's secret");
    cr_expect_eq(btl_verbs_hello_check(wire, BTL_VERBS_HELLO_WIRE, secret, 5, &got),
                 MRAIL_ERR_BAD_PARAM, "a rank the job does not have");
    cr_expect_eq(btl_verbs_hello_check(wire, BTL_VERBS_HELLO_WIRE - 1, secret, 8, &got),
                 MRAIL_ERR_BAD_PARAM, "short");
    cr_expect_eq(btl_verbs_hello_check(NULL, 0, secret, 8, &got), MRAIL_ERR_BAD_PARAM);
}

Test(verbs_wire, a_message_header_must_fit_what_arrived)
{
    btl_verbs_msg_t m = {.src = 3, .hdr_len = 24, .tag = 9}, got;
    uint8_t buf[64];
    btl_verbs_msg_pack(&m, buf);
    cr_assert_eq(btl_verbs_msg_check(buf, BTL_VERBS_MSG_WIRE + 24, &got), MRAIL_SUCCESS);
    cr_expect_eq(got.src, 3u);
    cr_expect_eq(got.hdr_len, 24);
    cr_expect_eq(got.tag, 9);
    cr_expect_eq(btl_verbs_msg_check(buf, BTL_VERBS_MSG_WIRE + 23, &got), MRAIL_ERR_BAD_PARAM);
    cr_expect_eq(btl_verbs_msg_check(buf, 7, &got), MRAIL_ERR_BAD_PARAM);
    buf[7] ^= 0xff;
    cr_expect_eq(btl_verbs_msg_check(buf, sizeof(buf), &got), MRAIL_ERR_BAD_PARAM);
}

/* ---- registration cache ---------------------------------------------- */

/* A fake HCA: handles are numbered registrations, and every one must be
 * deregistered exactly once. */
typedef struct fake_hca {
    int regs, deregs;
    int live[64];
    bool refuse;
} fake_hca_t;

static void *fake_reg(void *ctx, void *base, size_t len)
{
    (void)base, (void)len;
    fake_hca_t *h = ctx;
    if (h->refuse) {
        return NULL;
    }
    h->regs++;
    h->live[h->regs] = 1;
    return (void *)(intptr_t)h->regs;
}

static void fake_dereg(void *ctx, void *handle)
{
    fake_hca_t *h = ctx;
    int id = (int)(intptr_t)handle;
    cr_assert_eq(h->live[id], 1, "registration %d deregistered twice or never made", id);
    h->live[id] = 0;
    h->deregs++;
}

Test(verbs_rcache, a_buffer_sent_again_reuses_its_registration)
{
    fake_hca_t hca = {0};
    btl_verbs_rcache_t rc;
    btl_verbs_rcache_init(&rc, 8, fake_reg, fake_dereg, &hca);
    size_t page = rc.page;
    char *buf = aligned_alloc(page, 4 * page);
    cr_assert_not_null(buf);

    btl_verbs_reg_t *a = btl_verbs_rcache_get(&rc, buf + 10, 2 * page);
    cr_assert_not_null(a);
    cr_expect_eq(a->base, (uintptr_t)buf);
    cr_expect_eq(a->end, (uintptr_t)buf + 3 * page, "pages touched by [10, 10 + 2 pages)");
    btl_verbs_rcache_put(&rc, a);
    btl_verbs_reg_t *b = btl_verbs_rcache_get(&rc, buf + page, page);
    cr_expect_eq(b, a, "inside a cached registration");
    btl_verbs_rcache_put(&rc, b);
    btl_verbs_reg_t *c = btl_verbs_rcache_get(&rc, buf + 2 * page, 2 * page);
    cr_expect_neq(c, a, "reaches past it");
    btl_verbs_rcache_put(&rc, c);
    cr_expect_eq(hca.regs, 2);
    cr_expect_eq(rc.hits, 1u);
    cr_expect_eq(rc.misses, 2u);

    btl_verbs_rcache_fini(&rc);
    cr_expect_eq(hca.deregs, hca.regs);
    free(buf);
}

Test(verbs_rcache, released_memory_is_forgotten_at_once_or_at_its_last_use)
{
    fake_hca_t hca = {0};
    btl_verbs_rcache_t rc;
    btl_verbs_rcache_init(&rc, 8, fake_reg, fake_dereg, &hca);
    size_t page = rc.page;
    uintptr_t x = 0x10000000, y = 0x20000000; /* never touched: the fake HCA registers nothing */

    btl_verbs_reg_t *a = btl_verbs_rcache_get(&rc, (void *)x, page);
    btl_verbs_rcache_put(&rc, a);
    btl_verbs_rcache_invalidate(&rc, (void *)(x + page - 1), 1);
    cr_expect_eq(hca.deregs, 1, "unused: dropped at once");
    btl_verbs_reg_t *again = btl_verbs_rcache_get(&rc, (void *)x, page);
    cr_expect_eq(hca.regs, 2, "registered anew after the release");

    btl_verbs_reg_t *busy = btl_verbs_rcache_get(&rc, (void *)y, 2 * page);
    btl_verbs_rcache_invalidate(&rc, (void *)(y + page), page);
    cr_expect_eq(hca.deregs, 1, "in use: kept until its last put");
    btl_verbs_reg_t *fresh = btl_verbs_rcache_get(&rc, (void *)y, page);
    cr_expect_neq(fresh, busy, "a stale registration is never handed out");
    btl_verbs_rcache_put(&rc, busy);
    cr_expect_eq(hca.deregs, 2, "dropped at its last put");

    btl_verbs_rcache_invalidate(&rc, (void *)(x + 2 * page), page); /* touches neither */
    cr_expect_eq(hca.deregs, 2);
    btl_verbs_rcache_put(&rc, again);
    btl_verbs_rcache_put(&rc, fresh);
    btl_verbs_rcache_fini(&rc);
    cr_expect_eq(hca.deregs, hca.regs);
    cr_expect_eq(rc.invalidations, 2u);
}

Test(verbs_rcache, unused_registrations_beyond_the_limit_go_least_recently_used_first)
{
    fake_hca_t hca = {0};
    btl_verbs_rcache_t rc;
    btl_verbs_rcache_init(&rc, 2, fake_reg, fake_dereg, &hca);
    size_t page = rc.page;
    void *b0 = (void *)0x10000000, *b1 = (void *)0x20000000, *b2 = (void *)0x30000000;
    btl_verbs_rcache_put(&rc, btl_verbs_rcache_get(&rc, b0, page)); /* registration 1 */
    btl_verbs_rcache_put(&rc, btl_verbs_rcache_get(&rc, b1, page)); /* registration 2 */
    btl_verbs_rcache_put(&rc, btl_verbs_rcache_get(&rc, b0, page)); /* b0 used again */
    btl_verbs_rcache_put(&rc, btl_verbs_rcache_get(&rc, b2, page)); /* registration 3 */
    cr_expect_eq(rc.count, 2u);
    cr_expect_eq(hca.live[2], 0, "b1, the least recently used, went");
    cr_expect_eq(hca.live[1], 1, "b0 stays");
    cr_expect_eq(hca.live[3], 1);

    /* the unused make room for new ones; those in use may not go, so the
     * cache grows past its limit meanwhile */
    btl_verbs_reg_t *r[3];
    for (int i = 0; i < 3; i++) {
        r[i] = btl_verbs_rcache_get(&rc, (void *)(0x40000000 + (uintptr_t)i * 16 * page), page);
    }
    cr_expect_eq(rc.count, 3u);
    cr_expect_eq(hca.live[1] + hca.live[3], 0, "b0 and b2 made room");
    for (int i = 0; i < 3; i++) {
        btl_verbs_rcache_put(&rc, r[i]);
    }
    cr_expect_eq(rc.count, 2u, "back to the limit once they are put back");

    hca.refuse = true;
    cr_expect_null(btl_verbs_rcache_get(&rc, (void *)0x70000000, page), "the HCA said no");
    btl_verbs_rcache_fini(&rc);
    cr_expect_eq(hca.deregs, hca.regs);
}

/* ---- memory-release hooks ------------------------------------------------ */

typedef struct released {
    uintptr_t addr[8];
    size_t len[8];
    int n;
} released_t;

static void on_release(void *ctx, const void *addr, size_t len)
{
    released_t *r = ctx;
    if (r->n < 8) {
        r->addr[r->n] = (uintptr_t)addr;
        r->len[r->n] = len;
        r->n++;
    }
}

/* What the program unmaps, moves or empties is reported before it goes:
 * the cache above would drop the registrations in it. */
Test(mem_release, unmap_remap_and_madvise_are_reported)
{
    long page = sysconf(_SC_PAGESIZE);
    released_t r = {0};
    cr_assert_eq(mrail_mem_release_subscribe(on_release, &r), MRAIL_SUCCESS);
    char *p =
        mmap(NULL, 4 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(p, MAP_FAILED);
    cr_expect_eq(munmap(p + page, (size_t)page), 0);
    cr_expect_eq(madvise(p, (size_t)page, MADV_DONTNEED), 0);
    cr_expect_eq(madvise(p, (size_t)page, MADV_WILLNEED), 0); /* keeps its pages: not reported */
    char *q = mremap(p + 2 * page, 2 * (size_t)page, 8 * (size_t)page, MREMAP_MAYMOVE);
    cr_assert_neq(q, MAP_FAILED);
    cr_assert_eq(r.n, 3, "%d releases reported", r.n);
    cr_expect_eq(r.addr[0], (uintptr_t)(p + page));
    cr_expect_eq(r.len[0], (size_t)page);
    cr_expect_eq(r.addr[1], (uintptr_t)p);
    cr_expect_eq(r.addr[2], (uintptr_t)(p + 2 * page));
    cr_expect_eq(r.len[2], 2 * (size_t)page);

    mrail_mem_release_unsubscribe(on_release, &r);
    cr_expect_eq(munmap(q, 8 * (size_t)page), 0);
    cr_expect_eq(munmap(p, (size_t)page), 0);
    cr_expect_eq(r.n, 3, "nothing reported after unsubscribing");
}

Test(mem_release, subscribers_are_bounded)
{
    released_t r[MRAIL_MEM_RELEASE_MAX + 1];
    int ok = 0;
    for (int i = 0; i <= MRAIL_MEM_RELEASE_MAX; i++) {
        ok += mrail_mem_release_subscribe(on_release, &r[i]) == MRAIL_SUCCESS;
    }
    cr_expect_eq(ok, MRAIL_MEM_RELEASE_MAX);
    for (int i = 0; i <= MRAIL_MEM_RELEASE_MAX; i++) {
        mrail_mem_release_unsubscribe(on_release, &r[i]);
    }
    cr_expect_eq(mrail_mem_release_subscribe(on_release, &r[0]), MRAIL_SUCCESS);
    mrail_mem_release_unsubscribe(on_release, &r[0]);
}

/* ---- the plugin, as an admin meets it -------------------------------- */

static void info(run_t *r, const char *name, const char *value, const char *name2,
                 const char *value2)
{
    char *argv[] = {MRAIL_INFO,    "--parsable",   "--mca",
                    (char *)name,  (char *)value,  name2 ? "--mca" : NULL,
                    (char *)name2, (char *)value2, NULL};
    run_init(r);
    run_cmd(r, argv, NULL, NULL);
}

Test(verbs_plugin, bad_settings_name_the_value_and_the_valid_ones)
{
    if (!MRAIL_TEST_PLUGIN_VERBS) {
        cr_skip_test("this build made no btl/verbs plugin (no libibverbs/librdmacm)");
    }
    run_t r;
    info(&r, "btl_verbs_recv_buffers", "3", NULL, NULL);
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect(strstr(r.err, "btl_verbs_recv_buffers is 3; valid values are 16 to 65536") != NULL,
              "%s", r.err);
    run_fini(&r);
    info(&r, "btl_verbs_qp_depth", "0", NULL, NULL);
    cr_expect(strstr(r.err, "btl_verbs_qp_depth is 0; valid values are 1 to 16384") != NULL, "%s",
              r.err);
    run_fini(&r);
    info(&r, "btl_verbs_if_include", "mlx5_0", "btl_verbs_if_exclude", "mlx5_1:1");
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect(strstr(r.err, "btl_verbs_if_include and btl_verbs_if_exclude are both set") != NULL,
              "%s", r.err);
    run_fini(&r);
}

/* Without an HCA the plugin declines, saying so, and the job goes on. */
Test(verbs_plugin, no_device_declines_with_the_reason)
{
    if (!MRAIL_TEST_PLUGIN_VERBS) {
        cr_skip_test("this build made no btl/verbs plugin (no libibverbs/librdmacm)");
    }
    if (mrail_rdma_devices_present()) {
        cr_skip_test("this machine has an RDMA device: the plugin runs for real");
    }
    run_t r;
    info(&r, "btl_verbs_rcache_size", "0", NULL, NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "component:btl:verbs:state:declined\n") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "component:btl:verbs:reason:no RDMA device found") != NULL, "%s",
              r.out);
    run_fini(&r);
}
