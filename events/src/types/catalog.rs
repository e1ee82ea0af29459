//! The `catalog` family: titles (movies, series), episodes and availability.

use super::field::{event_family, wire_enum};
use crate::Timestamp;

wire_enum!(
    /// Kind of a published title.
    TitleKind { Movie = "movie", Series = "series" }
);

wire_enum!(
    /// Maturity rating, ordered from least to most restricted.
    Maturity { All = "all", Plus7 = "7+", Plus13 = "13+", Plus16 = "16+", Plus18 = "18+" }
);

event_family! {
    /// A catalog event (`title_id` is required on all of them).
    CatalogEvent {
        /// A movie or series was published.
        TitlePublished = "title_published" {
            /// Display name.
            name: String,
            /// Movie or series.
            kind: TitleKind,
            /// Genres.
            genres: Vec<String>,
            /// Original language.
            language: String,
            /// Maturity rating.
            maturity_rating: Maturity,
            /// Release year.
            release_year: Option<i64>,
            /// Duration (movies), ms.
            duration_ms: Option<i64>,
            /// Countries where it is available.
            countries: Vec<String>,
            /// Start of availability.
            available_from: Option<Timestamp>,
            /// End of availability.
            available_until: Option<Timestamp>,
        },
        /// Some attributes of a title changed (absent fields are unchanged).
        TitleUpdated = "title_updated" {
            /// Display name.
            name: Option<String>,
            /// Genres.
            genres: Option<Vec<String>>,
            /// Maturity rating.
            maturity_rating: Option<Maturity>,
            /// Countries where it is available.
            countries: Option<Vec<String>>,
            /// Start of availability.
            available_from: Option<Timestamp>,
            /// End of availability.
            available_until: Option<Timestamp>,
        },
        /// A title was withdrawn (in `countries`, or everywhere when absent).
        TitleWithdrawn = "title_withdrawn" {
            /// Countries concerned.
            countries: Option<Vec<String>>,
            /// Why.
            reason: Option<String>,
        },
        /// An episode (`title_id`) was added to a series.
        EpisodeAdded = "episode_added" {
            /// The series.
            series_id: String,
            /// Season number.
            season: i64,
            /// Episode number.
            episode: i64,
            /// Display name.
            name: Option<String>,
            /// Duration, ms.
            duration_ms: i64,
        },
    }
}
