package msts.data.world;

import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Invented words from syllables: entity names (pathogens, countries, syndromes) and invented values (toxins,
 * stains, cities, languages, currencies). ASCII letters only; a word that contains the stem of a real
 * pathogen, toxin or agent name (a short block list) or that was already used is drawn again.
 */
public final class Names {
    private Names() {}

    /** A naming style: syllable count, capitalisation, suffixes, and a fixed word after the name. */
    public enum Style {
        PATHOGEN(2, 2, true, new String[]{"ovane", "irex", "umid", "athel", "ospor", "ylin"}, ""),
        TOXIN(1, 2, false, new String[]{"orin", "atin", "exin", "ulin"}, ""),
        STAIN(1, 2, true, new String[]{"ard", "ell", "ock", "ent"}, ""),
        COUNTRY(2, 2, true, new String[]{"ia", "ar", "esh", "and", "ovia", "eth"}, ""),
        CITY(1, 2, true, new String[]{"holm", "mar", "is", "ek", "ova", "ur"}, ""),
        LANGUAGE(1, 2, true, new String[]{"ic", "ish", "ese", "ian"}, ""),
        CURRENCY(1, 1, false, new String[]{"el", "ok", "ar", "im"}, ""),
        SYNDROME(1, 2, true, new String[]{"er", "ow", "an", "ith"}, " syndrome");

        final int minSyl, maxSyl;
        final boolean capital;
        final String[] suffixes;
        final String after;

        Style(int minSyl, int maxSyl, boolean capital, String[] suffixes, String after) {
            this.minSyl = minSyl;
            this.maxSyl = maxSyl;
            this.capital = capital;
            this.suffixes = suffixes;
            this.after = after;
        }
    }

    static final String[] ONSETS = {"b", "br", "d", "dr", "f", "g", "gr", "k", "kr", "l", "m", "n", "p", "r", "s", "st", "t",
            "th", "v", "z", "qu", "sh", "h", "tr"};
    static final String[] VOWELS = {"a", "e", "i", "o", "u", "ai", "ou"};
    static final String[] CODAS = {"", "", "", "n", "r", "l", "s", "m", "rk", "nd"};

    /** Stems of real pathogens, toxins and agents: a name containing one is never used. */
    static final String[] BLOCKED = {"ebol", "anthra", "variol", "pox", "plag", "ricin", "abrin", "botul", "tetan", "choler", "typh",
            "polio", "measl", "rabi", "zika", "dengu", "lassa", "marbur", "nipah", "hendr", "hanta", "yersin", "brucel", "franci",
            "tular", "coxiel", "burkhol", "salmon", "shigel", "staph", "strep", "clostr", "bacil", "mycob", "influ", "coron", "sars",
            "mers", "hiv", "herpes", "hepat", "rotav", "norov", "lister", "legion", "chlamyd", "ricket", "borrel", "lyme", "malar",
            "plasmod", "prion", "saxi", "tetrod", "conot", "aflat", "sarin", "soman", "tabun", "mustard", "ergot", "aspergil",
            "candid", "crypto", "giardi", "amoeb", "leish", "trypan", "toxo", "virus", "toxin", "germ"};

    /** A new word in {@code style}, not in {@code used} (case-insensitive); it is added to {@code used}. */
    public static String draw(SplittableRandom rnd, Style style, Set<String> used) {
        for (int attempt = 0; attempt < 100_000; attempt++) {
            StringBuilder b = new StringBuilder();
            int n = style.minSyl + rnd.nextInt(style.maxSyl - style.minSyl + 1);
            for (int i = 0; i < n; i++) {
                b.append(ONSETS[rnd.nextInt(ONSETS.length)]).append(VOWELS[rnd.nextInt(VOWELS.length)]);
                if (i < n - 1) b.append(CODAS[rnd.nextInt(CODAS.length)]);
            }
            b.append(style.suffixes[rnd.nextInt(style.suffixes.length)]);
            String w = b.toString();
            String low = w.toLowerCase(Locale.ROOT);
            if (w.length() < 4 || w.length() > 11 || blocked(low) || used.contains(low)) continue;
            used.add(low);
            if (style.capital) w = Character.toUpperCase(w.charAt(0)) + w.substring(1);
            return w + style.after;
        }
        throw new IllegalStateException("cannot draw a new " + style + " name");
    }

    static boolean blocked(String lower) {
        for (String s : BLOCKED) if (lower.contains(s)) return true;
        return false;
    }
}
