/* A tc egress program (cls_bpf, direct action) that drops each packet with
 * probability PERMILLE/1000: random loss on an emulated rail where the
 * kernel has no netem. Built by bench/lab/lab.sh and the tcp tests with
 * clang -target bpf -DPERMILLE=N. */
#define SEC(name) __attribute__((section(name), used))

/* A kernel helper, called by its number (BPF_FUNC_get_prandom_u32). */
static unsigned int (*bpf_get_prandom_u32)(void) = (void *)7;

enum { TC_ACT_OK = 0, TC_ACT_SHOT = 2 };

SEC("classifier") int drop_random(void *skb)
{
    (void)skb;
    return bpf_get_prandom_u32() % 1000 < PERMILLE ? TC_ACT_SHOT : TC_ACT_OK;
}

char license_text[] SEC("license") = "GPL";
