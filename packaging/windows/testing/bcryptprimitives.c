/*
 * Test-only stand-in for bcryptprimitives.dll, which Wine 8.0 (Debian 12) lacks and
 * every Windows since 8 ships: Rust's std (1.78+) imports ProcessPrng from it for its
 * random numbers. Wine's own RtlGenRandom (advapi32 SystemFunction036) provides them.
 * Copied into the test WINEPREFIX's system32 by tests/windows/wine.rs; never packaged.
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
