/* The little UTF-8 handling pnm needs: validation, stepping over characters,
 * and the rule that splits a line into words. */
#ifndef PNM_UTF8_H
#define PNM_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Decodes the character at s[0..len). Returns its byte length (1..4) and sets
 * *cp, or 0 when the bytes there are not well-formed UTF-8 (overlongs,
 * surrogates and values above U+10FFFF are rejected). */
size_t pnm_utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Offset of the first invalid byte of s, or len when all of s is valid. */
size_t pnm_utf8_find_invalid(const char *s, size_t len);

/* Number of characters in valid UTF-8 s. */
size_t pnm_utf8_count(const char *s, size_t len);

/* True for characters that separate words: Unicode White_Space and all
 * control characters (Cc: U+0000-U+001F, U+007F-U+009F). Inline: the
 * tokenizer asks it of every character. */
static inline bool pnm_is_word_separator(uint32_t cp)
{
    if (cp <= 0x20 || (cp >= 0x7F && cp <= 0x9F))
        return true;
    switch (cp) {
    case 0x00A0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
        return true;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

#ifdef __cplusplus
}
#endif
#endif
