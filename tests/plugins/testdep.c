int mrail_testdep_answer(void);
int mrail_testdep_answer(void)
{
    return 42;
}
