/* ProcessPrng for Wine 8, which lacks it: Rust's std on Windows calls it
   from bcryptprimitives.dll. Forwards to BCryptGenRandom. */
#include <windows.h>
#include <bcrypt.h>
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    return BCryptGenRandom(NULL, data, (ULONG)len, BCRYPT_USE_SYSTEM_PREFERRED_RNG) >= 0;
}
