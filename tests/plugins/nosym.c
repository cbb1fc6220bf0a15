/* A shared object in the plugin directory that exports no component. */
int mrail_btl_nosym_something_else(void);
int mrail_btl_nosym_something_else(void)
{
    return 0;
}
