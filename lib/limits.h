/* Documented maximums. Readers enforce them before allocating, so a hostile
 * stream or model is refused with a message instead of a huge allocation.
 * They are part of the format contract (see pnm-stream(5)). */
#ifndef PNM_LIMITS_H
#define PNM_LIMITS_H

#define PNM_MAX_LINE_BYTES   (16u << 20) /* one input text line */
#define PNM_MAX_WORD_BYTES   512u        /* longer words are cut at a character boundary */
#define PNM_MAX_WORD_PIECES  1024u       /* pieces of one word in a token record */
#define PNM_MAX_WORDS        (1u << 20)  /* words in one record */
#define PNM_MAX_RECORD_BYTES (64u << 20) /* payload of one record */
#define PNM_MAX_VOCAB        (1u << 21)  /* SentencePiece pieces */
#define PNM_MAX_PIECE_BYTES  65535u      /* bytes of one piece string */
#define PNM_MAX_PIECE_TABLE  (64u << 20) /* bytes of a token stream's piece table */
#define PNM_MAX_FEATURES     65536u      /* Bloom filter size m (bucket fits in 16 bits) */
#define PNM_MAX_HASHES       1024u       /* MinHash functions n */
#define PNM_MAX_WINDOW       32u         /* context window w */
#define PNM_MAX_LAYERS       16u         /* mixer blocks L */
#define PNM_MAX_DIM          4096u       /* b, h_t, h_c */
#define PNM_MAX_SEQ_LEN      4096u       /* words per example s */
#define PNM_MAX_CLASSES      65536u      /* labels, tags */
#define PNM_MAX_FINGERPRINTS (1u << 26)  /* vocabulary size x n of a projector (256 MiB) */

#endif
