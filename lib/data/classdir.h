/* Internal: listing class folders dir/<class>/<image> (classdir.c). */
#ifndef LPC_DATA_CLASSDIR_H
#define LPC_DATA_CLASSDIR_H
#include "parse.h"

typedef struct {
    char **names;
    size_t n, cap;
} lpci_name_list;

void lpci_names_free(lpci_name_list *l);

/* Every image path, with its class index, and the class names. */
typedef struct {
    lpci_name_list paths;
    int32_t *labels;
    lpci_name_list classes; /* sorted; the label is the index here */
} lpci_class_listing;

/* Whether s ends in suffix (case-insensitive) after at least one character. */
int lpci_has_suffix(const char *s, const char *suffix);
/* Lists dir's class folders (sorted names; hidden entries skipped) and, in
 * each, the regular files whose name `accept` takes, sorted. classes_dir
 * NULL: dir's own folders are the classes; otherwise classes_dir's folders
 * are, and every folder of dir must be one of them. A class folder without
 * files is LPC_E_FORMAT ("has no <what> files"); an unreadable folder
 * LPC_E_IO. On failure *li is empty. */
lpc_status lpci_list_class_dir(const char *dir, const char *classes_dir,
                               int (*accept)(const char *), const char *what,
                               lpci_class_listing *li);
void lpci_class_listing_free(lpci_class_listing *li);
#endif
