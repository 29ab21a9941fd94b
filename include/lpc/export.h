/* liblpc — the single export macro. Every public function is declared LPC_API;
 * everything else is hidden (gnu_symbol_visibility=hidden + lib/liblpc.map). */
#ifndef LPC_EXPORT_H
#define LPC_EXPORT_H

#if defined(_WIN32)
#  define LPC_API
#elif defined(LPC_BUILDING_LIBRARY) && defined(__GNUC__)
#  define LPC_API __attribute__((visibility("default")))
#else
#  define LPC_API
#endif

#ifdef __cplusplus
#  define LPC_BEGIN_DECLS extern "C" {
#  define LPC_END_DECLS }
#else
#  define LPC_BEGIN_DECLS
#  define LPC_END_DECLS
#endif

#endif
